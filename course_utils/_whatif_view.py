"""The What-If explorer's widgets (ipywidgets 8): what a learner sees and moves in JupyterLab.

:class:`~course_utils.whatif.WhatIfExplorer` holds the state and the numbers; this module only shows them.
Every control calls the explorer's own methods, so a slider moved in the browser and
``explorer.set_threshold(...)`` in Python do the same thing.  The ROC figure is drawn once with matplotlib
and only its operating points move, re-encoded as a small PNG, so a slider change re-renders quickly.
"""

from __future__ import annotations

import html
import io

import numpy as np

_CSS_ID = "course-whatif"


class ExplorerView:
    """Two tabs -- performance & fairness, and the datapoint editor -- bound to one explorer."""

    def __init__(self, explorer):
        import ipywidgets as widgets

        self.explorer = explorer
        self._updating = False
        self.strategy = widgets.ToggleButtons(options=["manual", *_strategies()], value="manual",
                                              description="Strategy", style={"button_width": "auto"})
        self.cost_ratio = widgets.BoundedFloatText(value=5.0, min=0.1, max=100, step=0.5,
                                                   description="Cost ratio", tooltip="missed diagnosis : false alarm")
        self.sliders = {group: widgets.FloatSlider(value=explorer.thresholds[group], min=0.0, max=1.0, step=0.005,
                                                   description=f"{group}", readout_format=".3f", continuous_update=False,
                                                   layout=widgets.Layout(width="420px"))
                        for group in explorer.group_names}
        for group, slider in self.sliders.items():
            slider.add_class(f"{_CSS_ID}-slider")
            slider.add_class(f"{_CSS_ID}-slider-{_css(group)}")
            slider.observe(self._slider_moved(group), names="value")
        self.strategy.observe(self._strategy_chosen, names="value")
        self.table = widgets.HTML()
        self.table.add_class(f"{_CSS_ID}-metrics")
        self.roc = widgets.Image(format="png")
        performance = widgets.VBox([widgets.HBox([self.strategy, self.cost_ratio]),
                                    widgets.VBox(list(self.sliders.values())), self.table, self.roc])

        self.index = widgets.BoundedIntText(value=explorer.patient, min=0, max=len(explorer.y) - 1, description="Patient")
        self.pick = {how: widgets.Button(description=label) for how, label in
                     (("index", "Show patient"), ("nearest", "Nearest to the boundary"),
                      ("misclassified", "A misclassified patient"))}
        for how, button in self.pick.items():
            button.on_click(self._pick(how))
        self.fields = {column: self._field(column) for column in explorer.feature_cols}
        for column, field in self.fields.items():
            field.add_class(f"{_CSS_ID}-field-{_css(column)}")
            field.observe(self._edited(column), names="value")
        self.flip_button = widgets.Button(description="Flip the protected attribute",
                                          disabled=explorer.protected_col is None)
        self.flip_button.on_click(lambda _: self.explorer.flip())
        self.counterfactual_button = widgets.Button(description="Nearest counterfactual")
        self.counterfactual_button.on_click(self._counterfactual)
        self.reset_button = widgets.Button(description="Undo edits")
        self.reset_button.on_click(lambda _: self.explorer.reset_patient())
        self.patient_view = widgets.HTML()
        self.patient_view.add_class(f"{_CSS_ID}-patient")
        self.counterfactual_view = widgets.HTML()
        editor = widgets.VBox([widgets.HBox([self.index, *self.pick.values()]),
                               widgets.GridBox(list(self.fields.values()),
                                               layout=widgets.Layout(grid_template_columns="repeat(3, 320px)")),
                               widgets.HBox([self.flip_button, self.counterfactual_button, self.reset_button]),
                               self.patient_view, self.counterfactual_view])
        self.box = widgets.Tab(children=[performance, editor], titles=["Performance & fairness", "Datapoint editor"])
        self.box.add_class(_CSS_ID)
        self._figure = None
        self.refresh()

    # --- controls -> explorer -------------------------------------------------------------------------------

    def _slider_moved(self, group):
        def moved(change):
            if not self._updating:
                self.explorer.set_threshold(group, change["new"])
        return moved

    def _strategy_chosen(self, change):
        if self._updating or change["new"] == "manual":
            return
        self.explorer.apply_strategy(change["new"], cost_ratio=self.cost_ratio.value)

    def _pick(self, how):
        def pick(_):
            self.explorer.select_patient(self.index.value if how == "index" else None, how=how)
        return pick

    def _edited(self, column):
        def edited(change):
            if not self._updating:
                self.explorer.edit(column, change["new"])
        return edited

    def _counterfactual(self, _):
        numeric = [c for c in self.explorer.feature_cols if c != self.explorer.protected_col
                   and np.issubdtype(np.asarray(self.explorer.X[c]).dtype, np.number)]
        found = self.explorer.nearest_counterfactual(numeric)
        if not found["changes"]:
            self.counterfactual_view.value = "<p>No change of up to two measurements flips this decision.</p>"
            return
        changes = ", ".join(f"{html.escape(str(c))} → {v:.4g}" for c, v in found["changes"].items())
        self.counterfactual_view.value = (f"<p><b>Nearest counterfactual</b>: {changes} (distance "
                                          f"{found['distance']:.2f} standard deviations) gives score "
                                          f"{found['score']:.3f}, decision {found['decision']}.</p>")

    def _field(self, column):
        import ipywidgets as widgets

        values = self.explorer.X[column]
        value = self.explorer.patient_row[column].iloc[0]
        if np.issubdtype(np.asarray(values).dtype, np.number):
            return widgets.FloatText(value=_number(value), description=str(column), style={"description_width": "140px"})
        options = sorted({str(v) for v in values.dropna()})
        return widgets.Dropdown(options=options, value=str(value) if str(value) in options else None,
                                description=str(column), style={"description_width": "140px"})

    # --- explorer -> widgets ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the explorer's current state (called after every change)."""
        explorer = self.explorer
        self._updating = True
        try:
            for group, slider in self.sliders.items():
                threshold = explorer.thresholds[group]
                slider.disabled = bool(np.isnan(threshold))
                if not np.isnan(threshold):
                    slider.value = threshold
            self.strategy.value = explorer.strategy if explorer.strategy in self.strategy.options else "manual"
            self.index.value = explorer.patient
            for column, field in self.fields.items():
                value = explorer.patient_row[column].iloc[0]
                if hasattr(field, "options"):  # a Dropdown of categories
                    field.value = str(value) if str(value) in field.options else None
                else:
                    field.value = _number(value)
        finally:
            self._updating = False
        metrics = explorer.metrics()
        self.table.value = _metrics_html(metrics, explorer.strategy)
        self.roc.value = self._roc_png(metrics)
        score, decision = explorer.patient_score(), explorer.patient_decision()
        self.patient_view.value = (f"<p class='{_CSS_ID}-score'>Patient {explorer.patient} ({html.escape(explorer.patient_group())}, "
                                   f"outcome {explorer.y[explorer.patient]}): score <b data-score='{score:.6f}'>{score:.3f}</b>, "
                                   f"decision <b>{'flagged' if decision else 'not flagged'}</b> (original score "
                                   f"{explorer.scores[explorer.patient]:.3f}).</p>")

    def _roc_png(self, metrics) -> bytes:
        from course_utils.plots import group_colour

        if self._figure is None:
            from matplotlib.figure import Figure
            from sklearn.metrics import roc_curve

            figure = Figure(figsize=(4.4, 3.2), dpi=80, layout="constrained")
            ax = figure.add_subplot()
            self._points = {}
            for group in self.explorer.group_names:
                mask = self.explorer.groups == group
                if len(np.unique(self.explorer.y[mask])) < 2:
                    continue
                fpr, tpr, _ = roc_curve(self.explorer.y[mask], self.explorer.scores[mask])
                colour = _colour(group, group_colour)
                ax.plot(fpr, tpr, color=colour, label=str(group))
                (self._points[group],) = ax.plot([], [], "o", color=colour, markersize=8, markeredgecolor="black")
            ax.plot([0, 1], [0, 1], ":", color="#999999")
            ax.set_xlabel("false-positive rate")
            ax.set_ylabel("true-positive rate")
            ax.set_title("ROC per group; dots: the operating points")
            ax.legend(loc="lower right", fontsize=8)
            self._figure = figure
        for group, point in self._points.items():
            point.set_data([metrics.loc[group, "fpr"]], [metrics.loc[group, "tpr"]])
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _strategies():
    from course_utils.whatif import STRATEGIES

    return STRATEGIES


def _colour(group, group_colour):
    try:
        return group_colour(group)
    except (KeyError, ValueError):
        return None


def _css(name) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(name)).lower()


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _metrics_html(metrics, strategy) -> str:
    """The metrics table as HTML, with data attributes the browser test reads."""
    def cell(group, rate):
        value, low, high = (metrics.loc[group, rate], metrics.loc[group, f"{rate}_ci_low"],
                            metrics.loc[group, f"{rate}_ci_high"])
        if np.isnan(value):
            return "<td>undefined</td>"
        return (f"<td data-group='{html.escape(str(group))}' data-rate='{rate}' data-value='{value:.6f}'>"
                f"{value:.3f} <small>({low:.2f}–{high:.2f})</small></td>")

    header = "".join(f"<th>{name}</th>" for name in ("group", "threshold", "TP", "FP", "TN", "FN", "TPR", "FNR",
                                                      "FPR", "PPV", "selection", "missed / 1,000",
                                                      "work-ups / 1,000"))
    rows = []
    for group, row in metrics.iterrows():
        threshold = "randomised" if np.isnan(row["threshold"]) else f"{row['threshold']:.3f}"
        rows.append(f"<tr><td>{html.escape(str(group))}</td><td>{threshold}</td>"
                    f"<td>{row['tp']}</td><td>{row['fp']}</td><td>{row['tn']}</td><td>{row['fn']}</td>"
                    + "".join(cell(group, rate) for rate in ("tpr", "fnr", "fpr", "ppv", "selection_rate"))
                    + f"<td>{row['missed_per_1000']:.0f}</td><td>{row['workups_per_1000']:.0f}</td></tr>")
    return (f"<p>Strategy: <b>{html.escape(strategy)}</b>. Rates with 95 % Wilson intervals; missed diagnoses per "
            f"1,000 patients with the condition, unnecessary work-ups per 1,000 without.</p>"
            f"<table class='{_CSS_ID}-table'><tr>{header}</tr>{''.join(rows)}</table>")
