"""The advisor's chart: monthly cost against monthly tokens for every priced option, on log axes.

Needs matplotlib, the optional extra `inferwise[plot]`; it is imported only here, inside the function, and
only its object API is used (no pyplot, no global backend switch), so plotting from a library or a test does
not change anyone's matplotlib state.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from inferwise.cost.advisor import Comparison, cost_curves, tokens_text
from inferwise.cost.catalog import PriceCatalog

INSTALL_HINT = 'pip install "inferwise[plot]"'
POINTS_PER_DECADE = 40

_COLOURS: dict[str, str] = {
    "bedrock-on-demand": "#1f77b4",
    "bedrock-global": "#aec7e8",
    "bedrock-flex": "#98df8a",
    "bedrock-priority": "#393b79",
    "bedrock-batch": "#2ca02c",
    "bedrock-prompt-cache": "#17becf",
    "bedrock-routed": "#9467bd",
    "sagemaker-always-on": "#d62728",
    "scale-to-zero": "#ff7f0e",
    "spot-inf2": "#8c564b",
    "spot-gpu": "#e377c2",
    "spot-graviton": "#7f7f7f",
}
_BEDROCK = (
    "bedrock-on-demand",
    "bedrock-global",
    "bedrock-flex",
    "bedrock-priority",
    "bedrock-batch",
    "bedrock-prompt-cache",
    "bedrock-routed",
)
_FLOOR_USD = 0.01
"""Costs below a cent are drawn at a cent: a log axis has no zero."""


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed."""


def _usd_tick(value: float, _position: object = None) -> str:
    if value >= 1_000_000_000:
        return f"${value / 1_000_000_000:g}B"
    if value >= 1_000_000:
        return f"${value / 1_000_000:g}M"
    if value >= 1_000:
        return f"${value / 1_000:g}k"
    if value >= 1:
        return f"${value:g}"
    return f"${value:.2g}"


def _tokens_tick(value: float, _position: object = None) -> str:
    return tokens_text(Decimal(str(float(value))))


def plot_comparison(
    comparison: Comparison,
    path: Path,
    *,
    catalog: PriceCatalog | None = None,
    points_per_decade: int = POINTS_PER_DECADE,
) -> Path:
    """Write the chart as a PNG to `path` and return it.

    Each priced option is a line of monthly cost over monthly tokens (the workload scaled over the break-even
    search range); break-even volumes are numbered markers, explained in the legend; the workload's own
    volume is a dashed vertical line with each option's cost there marked.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailableError(
            f"the chart needs matplotlib, which is not installed: {INSTALL_HINT}"
        ) from None

    workload = comparison.workload
    keys = [option.key for option in comparison.priced]
    grid, curves = cost_curves(workload, keys, catalog, points_per_decade=points_per_decade)
    xs = [float(requests * workload.tokens_per_request) for requests in grid]

    crossings = [item for item in comparison.break_evens if item.monthly_tokens is not None]
    legend_rows = max(len(keys), len(crossings)) + 1
    top, plot_height, below = 0.75, 4.3, 0.75  # inches: title, axes, tick labels and axis label
    legend_height = 0.25 + 0.19 * legend_rows
    height = top + plot_height + below + legend_height
    figure = Figure(figsize=(10, height), dpi=110)
    FigureCanvasAgg(figure)
    axes: Any = figure.add_axes((0.09, (below + legend_height) / height, 0.88, plot_height / height))
    _draw_cost_curves(axes, comparison, xs, curves)
    _mark_workload_volume(axes, comparison)
    break_even_handles = _mark_break_evens(axes, comparison)
    _label_axes(axes, comparison, xs)
    _add_legends(figure, axes, break_even_handles, anchor_y=legend_height / height)
    path = Path(path)
    figure.savefig(path, format="png")
    return path


def _option_names(comparison: Comparison) -> dict[str, str]:
    return {option.key: option.name for option in comparison.options}


def _draw_cost_curves(
    axes: Any, comparison: Comparison, xs: list[float], curves: dict[str, list[Decimal]]
) -> None:
    """One line per priced option: solid for Bedrock, dashed for self-hosted, the cheapest drawn thicker."""
    names = _option_names(comparison)
    for key in curves:
        ys = [max(float(cost), _FLOOR_USD) for cost in curves[key]]
        # at 24 active hours ScaleToZeroEndpoint lies on the always-on line: draw that one wide underneath
        wide = key == "sagemaker-always-on" and float(comparison.workload.active_hours_per_day) >= 24
        axes.plot(
            xs,
            ys,
            label=names[key],
            color=_COLOURS.get(key, "#000000"),
            linestyle="-" if key in _BEDROCK else (0, (5, 2)),
            linewidth=3.4 if wide else 2.0 if key == comparison.cheapest.key else 1.4,
            alpha=0.55 if wide else 1.0,
            zorder=1 if wide else 2,
        )


def _mark_workload_volume(axes: Any, comparison: Comparison) -> None:
    """A dotted vertical line at the workload's volume, with each option's cost there marked."""
    workload = comparison.workload
    here = float(workload.monthly_tokens)
    axes.axvline(here, color="#444444", linestyle=":", linewidth=1.2)
    for option in comparison.priced:
        assert option.monthly_cost is not None
        axes.plot(
            [here],
            [max(float(option.monthly_cost), _FLOOR_USD)],
            marker="o",
            markersize=4.5,
            color=_COLOURS.get(option.key, "#000000"),
        )
    axes.annotate(
        f"your volume\n{tokens_text(workload.monthly_tokens)} tokens/month",
        xy=(here, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=8.5,
        color="#333333",
    )


def _mark_break_evens(axes: Any, comparison: Comparison) -> list[Any]:
    """A numbered marker at each break-even volume; returns the legend entries that explain the numbers."""
    from matplotlib.lines import Line2D

    names = _option_names(comparison)
    handles: list[Any] = []
    number = 0
    for item in comparison.break_evens:
        if item.monthly_tokens is None or item.cost_cheaper is None:
            continue
        number += 1
        x, y = float(item.monthly_tokens), max(float(item.cost_cheaper), _FLOOR_USD)
        axes.plot(
            [x], [y], marker="o", markersize=11, markerfacecolor="white", markeredgecolor="black", zorder=5
        )
        axes.annotate(
            str(number), xy=(x, y), ha="center", va="center", fontsize=7.5, fontweight="bold", zorder=6
        )
        how = "meet" if item.kind == "cross" else "swap at a step"
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=f"${number}$",
                markersize=7,
                color="black",
                label=f"{names[item.cheaper]} / {names[item.other]}: {how} at {tokens_text(item.monthly_tokens)}",
            )
        )
    return handles


def _label_axes(axes: Any, comparison: Comparison, xs: list[float]) -> None:
    """Log axes over the searched volumes, ticks in tokens and dollars, and a title describing the workload."""
    from matplotlib.ticker import FuncFormatter

    workload = comparison.workload
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(xs[0], xs[-1])
    axes.xaxis.set_major_formatter(FuncFormatter(_tokens_tick))
    axes.yaxis.set_major_formatter(FuncFormatter(_usd_tick))
    axes.set_xlabel("monthly tokens (input + output)")
    axes.set_ylabel("monthly cost (USD, log scale)")
    axes.grid(True, which="major", color="#dddddd", linewidth=0.8)
    axes.set_title(
        f"{workload.model_id} in {workload.region}: monthly cost by volume\n"
        f"{workload.input_tokens_per_request:,} in + {workload.output_tokens_per_request:,} out tokens per request, "
        f"{float(workload.active_hours_per_day):g} h/day active, peak {float(workload.peak_to_average):g}x average",
        fontsize=10,
    )


def _add_legends(figure: Any, axes: Any, break_even_handles: list[Any], *, anchor_y: float) -> None:
    """The options legend, and beside it the break-even legend when there are break-evens to explain."""
    option_handles, _ = axes.get_legend_handles_labels()
    figure.legend(
        handles=option_handles,
        loc="upper left",
        bbox_to_anchor=(0.02, anchor_y),
        fontsize=8.5,
        title="options (dashed: self-hosted)",
        title_fontsize=8.5,
        frameon=False,
    )
    if break_even_handles:
        figure.legend(
            handles=break_even_handles,
            loc="upper left",
            bbox_to_anchor=(0.33, anchor_y),
            fontsize=8,
            title="break-even volumes (monthly tokens)",
            title_fontsize=8.5,
            frameon=False,
        )
