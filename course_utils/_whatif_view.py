"""The What-If explorer's widgets (ipywidgets 8): what a learner sees and moves in JupyterLab.

:class:`~course_utils.whatif.WhatIfExplorer` holds the state and the counts; this module only shows them.
Every control calls the explorer's own methods, so a slider moved in the browser and
``explorer.set_threshold(...)`` in Python do the same thing.  The rates, their Wilson intervals, the
per-1,000 figures and the patient's score are computed here as the view is drawn and kept only as rounded
text (and three-decimal ``data-`` attributes for the browser test): nothing here returns a rate or a score.
The ROC figure is drawn once with matplotlib and only its operating points move (placed at the rounded
rates), re-encoded as a small PNG, so a slider change re-renders quickly.
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
        decision = "flagged" if found["decision"] else "not flagged"
        self.counterfactual_view.value = (f"<p><b>Nearest counterfactual</b>: {changes} (distance "
                                          f"{found['distance']:.2f} standard deviations) gives the decision "
                                          f"<b>{decision}</b>.</p>")

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
        counts = explorer.counts()
        self.table.value = _metrics_html(counts, explorer.strategy)
        self.roc.value = self._roc_png(counts)
        # The edited patient's score, shown rounded: the editor is for looking, a score you report is your own code's.
        score = float(np.asarray(explorer.model.predict_proba(explorer.patient_row))[0, 1])
        threshold = explorer.thresholds.get(explorer.patient_group(), 0.5)
        flagged = score >= (0.5 if np.isnan(threshold) else threshold)
        self.patient_view.value = (f"<p class='{_CSS_ID}-score'>Patient {explorer.patient} ({html.escape(explorer.patient_group())}, "
                                   f"outcome {explorer.y[explorer.patient]}): score <b data-score='{score:.3f}'>{score:.3f}</b>, "
                                   f"decision <b>{'flagged' if flagged else 'not flagged'}</b> (original score "
                                   f"{explorer.scores[explorer.patient]:.3f}).</p>")

    def _roc_png(self, counts) -> bytes:
        if self._figure is None:
            from matplotlib.figure import Figure

            from course_utils.plots import plot_roc_by_group

            figure = Figure(figsize=(4.4, 3.2), dpi=80, layout="constrained")
            self._points = plot_roc_by_group(self.explorer.y, self.explorer.scores,
                                             sensitive_features=self.explorer.groups, ax=figure.add_subplot())
            self._figure = figure
        for group, point in self._points.items():
            tp, fp, tn, fn = (int(counts.loc[group, k]) for k in ("tp", "fp", "tn", "fn"))
            # A group on the ROC figure has both outcomes; the point sits at its rates rounded to 3 decimals.
            point.set_data([round(fp / (fp + tn), 3)], [round(tp / (tp + fn), 3)])
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _strategies():
    from course_utils.whatif import STRATEGIES

    return STRATEGIES


def _css(name) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(name)).lower()


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _metrics_html(counts, strategy) -> str:
    """The table as HTML: counts, rates with 95 % Wilson intervals and per-1,000 figures, rounded for reading.

    Each rate cell carries ``data-group``, ``data-rate`` and ``data-value`` (three decimals) for the browser test.
    """
    from scipy.stats import binomtest

    def cell(group, rate, part, whole):
        if whole == 0:
            return "<td>undefined</td>"
        interval = binomtest(part, whole).proportion_ci(confidence_level=0.95, method="wilson")
        return (f"<td data-group='{html.escape(str(group))}' data-rate='{rate}' data-value='{part / whole:.3f}'>"
                f"{part / whole:.3f} <small>({interval.low:.2f}–{interval.high:.2f})</small></td>")

    def per_1000(part, whole):
        return f"{1000 * part / whole:.0f}" if whole else "nan"

    header = "".join(f"<th>{name}</th>" for name in ("group", "threshold", "TP", "FP", "TN", "FN", "TPR", "FNR",
                                                      "FPR", "PPV", "selection", "missed / 1,000",
                                                      "work-ups / 1,000"))
    rows = []
    for group, row in counts.iterrows():
        tp, fp, tn, fn, n = (int(row[k]) for k in ("tp", "fp", "tn", "fn", "n"))
        threshold = "randomised" if np.isnan(row["threshold"]) else f"{row['threshold']:.3f}"
        rates = (("tpr", tp, tp + fn), ("fnr", fn, tp + fn), ("fpr", fp, fp + tn), ("ppv", tp, tp + fp),
                 ("selection_rate", tp + fp, n))
        rows.append(f"<tr><td>{html.escape(str(group))}</td><td>{threshold}</td>"
                    f"<td>{tp}</td><td>{fp}</td><td>{tn}</td><td>{fn}</td>"
                    + "".join(cell(group, rate, part, whole) for rate, part, whole in rates)
                    + f"<td>{per_1000(fn, tp + fn)}</td><td>{per_1000(fp, fp + tn)}</td></tr>")
    return (f"<p>Strategy: <b>{html.escape(strategy)}</b>. Rates with 95 % Wilson intervals; missed diagnoses per "
            f"1,000 patients with the condition, unnecessary work-ups per 1,000 without.</p>"
            f"<table class='{_CSS_ID}-table'><tr>{header}</tr>{''.join(rows)}</table>")
