"""Attach a construct's cost estimate to the synthesized template, where the report and the diff find it,
and make sure no estimate with a missing price passes for a complete one.

A construct prices itself with `catalog_for(self)`, which returns a `RecordingCatalog`: when a price the
estimator needs is not in the catalogue, it records the miss against the construct's stack and hands back a
placeholder (a cost line marked `MISSING:<catalogue key>`, USD 0) so the estimator runs on and every other
missing price is found in the same synth. Then:

- synth fails with one message per stack that lists every missing price (service/sku/Region/dimension, by
  construct path) and the `inferwise prices refresh` command that fills them (a validation on the stack);
- reading `construct.cost_estimate` of a construct with a missing price raises `MissingPricesError`;
- the cost report plugin refuses templates whose estimates carry a marked line (`plugin.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import jsii
from aws_cdk import CfnResource, Stack, Tags, Token
from constructs import IConstruct, IValidation

from inferwise.cost.catalog import (
    CONTEXT_KEY,
    TOKENS_PER_PRICED_UNIT,
    PriceCatalog,
    UnknownPriceError,
    tiered_cost,
)
from inferwise.cost.model import COST_METADATA_KEY, CostEstimate, CostLine, PricingCategory
from inferwise.cost.records import PriceRecord, PriceTier
from inferwise.cost.render import estimate_summary
from inferwise.cost.spot_discounts import SPOT_SERVICE, SpotDiscount
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY, STACK_TAG_KEY, construct_tag_value, stack_tag_value

REGION_CONTEXT_KEY = "inferwise:region"
"""CDK context key naming the Region to price an environment-agnostic stack in."""

DEFAULT_PRICING_REGION = "us-east-1"

ANNOTATE_CONTEXT_KEY = "inferwise:annotate"
"""CDK context key: `false` drops the one-line info annotation each construct adds with its estimate."""

NOT_TAGGED_TYPES: tuple[str, ...] = ("AWS::CE::AnomalyMonitor", "AWS::CE::AnomalySubscription")
"""Taggable types left without the inferwise tags: Cost Anomaly Detection is free (no spend to attribute) and
its `ResourceTags` are create-only, so adding tags would replace the monitor, and a replacement DIMENSIONAL
monitor fails (one per dimension per account, docs/aws-facts.md). User tags still reach them."""

TAG_PRIORITY = 1000
"""Priority of the `inferwise:stack` and `inferwise:construct` tags: above CDK's default (100 for `Tags.add`,
200 for `Tags.remove`), so a user's tag or removal with the same key at default priority cannot replace them."""

MISSING_PRICE_PREFIX = "MISSING:"
"""A placeholder cost line's `price_source` is this prefix and the catalogue key of the missing price."""
MISSING_PRICE_SOURCE = "missing-price"
"""The `source` of a placeholder record or Spot discount: not a price, never a figure to report."""
DEFAULT_OVERRIDE_FILE = "inferwise-prices.json"
"""The override file the missing-price message suggests when cdk.json names none."""

_INFO = "aws:cdk:info"
"""The metadata type of an info annotation (what `Annotations.add_info` writes)."""
_LOG_ATTRIBUTE = "_inferwise_missing_prices"
_ESTIMATE_ATTRIBUTE = "_inferwise_cost_estimate"
_PLACEHOLDER_DATE = date(1970, 1, 1)


def pricing_region(scope: IConstruct) -> tuple[str, tuple[str, ...]]:
    """The Region whose prices apply to `scope`, and the assumption made when the stack has none.

    A stack with an explicit Region is priced there. An environment-agnostic stack is priced in the Region
    named by the `inferwise:region` context key, else in us-east-1; the returned assumption says which.
    """
    region = Stack.of(scope).region
    if not Token.is_unresolved(region):
        return region, ()
    chosen = scope.node.try_get_context(REGION_CONTEXT_KEY)
    if chosen is not None:
        return str(chosen), (f"stack has no Region; priced in {chosen} from context '{REGION_CONTEXT_KEY}'",)
    return DEFAULT_PRICING_REGION, (
        f"stack has no Region; priced in {DEFAULT_PRICING_REGION} "
        f"(set the stack's env or context '{REGION_CONTEXT_KEY}')",
    )


# ------------------------------------------------------------------------------------------ missing prices
@dataclasses.dataclass(frozen=True, order=True)
class MissingPrice:
    """One price an estimate needed and the catalogue lacks, and where it was needed."""

    stack_path: str
    construct_path: str
    service: str
    sku: str
    region: str
    dimension: str

    @property
    def key(self) -> str:
        """The catalogue key the price would have: `service/sku/region/dimension`."""
        return f"{self.service}/{self.sku}/{self.region}/{self.dimension}"


class MissingPricesError(UnknownPriceError):
    """Prices an estimate needs are not in the catalogue; the message lists them all and how to add them."""

    def __init__(self, message: str, missing: Sequence[MissingPrice]) -> None:
        first = missing[0] if missing else None
        super().__init__(
            message,
            service=first.service if first else "",
            sku=first.sku if first else "",
            region=first.region if first else "",
            dimension=first.dimension if first else "",
        )
        self.missing = tuple(missing)


class _MissingPriceLog:
    """Every missing price recorded in one app, in the order they were found, without repeats."""

    def __init__(self, override_file: str | None) -> None:
        self.override_file = override_file
        self._misses: dict[MissingPrice, None] = {}
        self._checked_stacks: set[str] = set()

    def add(self, miss: MissingPrice) -> None:
        self._misses.setdefault(miss, None)

    def all(self) -> list[MissingPrice]:
        return list(self._misses)

    def of_stack(self, stack_path: str) -> list[MissingPrice]:
        return [m for m in self._misses if m.stack_path == stack_path]

    def of_construct(self, construct_path: str) -> list[MissingPrice]:
        return [m for m in self._misses if m.construct_path == construct_path]

    def check_stack(self, stack: Stack) -> None:
        """Fail the stack's synth (a node validation) while it has missing prices; added once per stack."""
        if stack.node.path not in self._checked_stacks:
            self._checked_stacks.add(stack.node.path)
            stack.node.add_validation(_MissingPricesCheck(self, stack.node.path))


@jsii.implements(IValidation)
class _MissingPricesCheck:
    """The stack's one validation error: every missing price of the stack and the command that fills them."""

    def __init__(self, log: _MissingPriceLog, stack_path: str) -> None:
        self._log = log
        self._stack_path = stack_path

    def validate(self) -> list[str]:
        missing = self._log.of_stack(self._stack_path)
        if not missing:
            return []
        return [missing_prices_message(missing, override_file=self._log.override_file)]


def _log_of(scope: IConstruct, *, create: bool) -> _MissingPriceLog | None:
    root: Any = scope.node.root
    log = getattr(root, _LOG_ATTRIBUTE, None)
    if log is None and create:
        value = scope.node.try_get_context(CONTEXT_KEY)
        log = _MissingPriceLog(value if isinstance(value, str) and value else None)
        setattr(root, _LOG_ATTRIBUTE, log)
    return log if isinstance(log, _MissingPriceLog) else None


def _placeholder_record(service: str, sku: str, region: str, dimension: str) -> PriceRecord:
    return PriceRecord(
        service=service,
        sku=sku,
        region=region,
        dimension=dimension,
        unit="unknown",
        tiers=(PriceTier(begin=Decimal(0), end=None, usd=Decimal(0)),),
        source=MISSING_PRICE_SOURCE,
        as_of=_PLACEHOLDER_DATE,
        confidence="low",
        notes="placeholder for a missing price: not a price",
    )


_PLACEHOLDER_NOTE = (
    "MISSING PRICE: the catalogue has no price for this line; USD 0 is a placeholder, not a price, and synth "
    "fails until the price is added"
)


def _placeholder_line(
    component: str,
    key: str,
    service: str,
    quantity: Decimal,
    category: PricingCategory,
    assumptions: Sequence[str],
) -> CostLine:
    return CostLine(
        component=f"{component} [MISSING PRICE]",
        service_code=service,
        usage_type="",
        pricing_unit="unknown",
        monthly_quantity=quantity,
        unit_price=Decimal(0),
        monthly_cost=Decimal(0),
        pricing_category=category,
        price_source=MISSING_PRICE_PREFIX + key,
        price_as_of=_PLACEHOLDER_DATE,
        assumptions=(*assumptions, _PLACEHOLDER_NOTE),
        confidence="low",
    )


class RecordingCatalog(PriceCatalog):
    """The catalogue a construct prices itself with: the same prices, but a missing one is recorded, not raised.

    `line`, `cost`, `bedrock_line` and `spot_discount` (what estimators put money in an estimate with) record
    the miss against the construct and return a placeholder marked `MISSING:<key>` at USD 0, so the estimator
    goes on and the other missing prices are found too. `price`, `bedrock` and `has_batch_price` still raise
    `UnknownPriceError`: they are lookups, and prop checks rely on them to refuse an unpriced choice.
    """

    def __init__(self, base: PriceCatalog, scope: IConstruct) -> None:
        # The same record tables as `base` (read only), not a copy: a catalogue per construct costs nothing.
        self.__dict__.update(vars(base))
        self._stack = Stack.of(scope)
        self._path = scope.node.path
        log = _log_of(scope, create=True)
        assert log is not None
        self._log = log

    def _record(self, service: str, sku: str, region: str, dimension: str) -> str:
        miss = MissingPrice(self._stack.node.path, self._path, service, sku, region, dimension)
        self._log.add(miss)
        self._log.check_stack(self._stack)
        return miss.key

    def line(
        self,
        component: str,
        service: str,
        sku: str,
        region: str,
        dimension: str,
        quantity: Decimal,
        *,
        pricing_category: PricingCategory = "OnDemand",
        assumptions: Sequence[str] = (),
        apply_free_tier: bool = False,
        discount: SpotDiscount | None = None,
    ) -> CostLine:
        try:
            line = super().line(
                component, service, sku, region, dimension, quantity, pricing_category=pricing_category,
                assumptions=assumptions, apply_free_tier=apply_free_tier, discount=discount,
            )  # fmt: skip
        except UnknownPriceError:
            tiered_cost(_placeholder_record(service, sku, region, dimension), quantity)  # checks the quantity
            key = self._record(service, sku, region, dimension)
            category: PricingCategory = "Dynamic" if discount is not None else pricing_category
            return _placeholder_line(component, key, service, Decimal(quantity), category, assumptions)
        if discount is not None and discount.source == MISSING_PRICE_SOURCE:
            key = f"{SPOT_SERVICE}/{discount.family}/{discount.region}/AverageDiscount"
            return dataclasses.replace(
                line,
                component=f"{line.component} [MISSING PRICE]",
                price_source=MISSING_PRICE_PREFIX + key,
                assumptions=(*line.assumptions, _PLACEHOLDER_NOTE),
                confidence="low",
            )
        return line

    def cost(
        self,
        service: str,
        sku: str,
        region: str,
        dimension: str,
        quantity: Decimal,
        *,
        apply_free_tier: bool = False,
    ) -> Decimal:
        try:
            return super().cost(service, sku, region, dimension, quantity, apply_free_tier=apply_free_tier)
        except UnknownPriceError:
            self._record(service, sku, region, dimension)
            return tiered_cost(_placeholder_record(service, sku, region, dimension), quantity)

    def bedrock_line(
        self,
        component: str,
        model_id: str,
        region: str,
        dimension: str,
        tokens: Decimal,
        *,
        pricing_category: PricingCategory = "OnDemand",
        assumptions: Sequence[str] = (),
    ) -> CostLine:
        try:
            return super().bedrock_line(
                component, model_id, region, dimension, tokens, pricing_category=pricing_category,
                assumptions=assumptions,
            )  # fmt: skip
        except UnknownPriceError as missing:
            sku = missing.sku or model_id
            quantity = tokens / TOKENS_PER_PRICED_UNIT
            tiered_cost(_placeholder_record(missing.service, sku, region, dimension), quantity)
            key = self._record(missing.service or "AmazonBedrock", sku, region, dimension)
            return _placeholder_line(component, key, "AmazonBedrock", quantity, pricing_category, assumptions)

    def spot_discount(self, instance_type: str, region: str) -> SpotDiscount:
        try:
            return super().spot_discount(instance_type, region)
        except UnknownPriceError:
            family = instance_type.split(".", 1)[0]
            self._record(SPOT_SERVICE, family, region, "AverageDiscount")
            zero = Decimal(0)
            return SpotDiscount(
                family, region, zero, zero, zero, MISSING_PRICE_SOURCE, _PLACEHOLDER_DATE, _PLACEHOLDER_NOTE
            )


def recording_catalog(base: PriceCatalog, scope: IConstruct) -> PriceCatalog:
    """`base` as seen by a construct: missing prices recorded against its stack (see `RecordingCatalog`).

    A scope outside any stack gets `base` itself, which raises at the first missing price.
    """
    try:
        Stack.of(scope)
    except RuntimeError:
        return base
    return RecordingCatalog(base, scope)


def missing_in(estimate: CostEstimate) -> list[str]:
    """The catalogue keys of the placeholder lines in `estimate` and its baseline (empty when complete)."""
    keys = [
        line.price_source.removeprefix(MISSING_PRICE_PREFIX)
        for part in (estimate, estimate.baseline)
        if part is not None
        for line in part.lines
        if line.price_source.startswith(MISSING_PRICE_PREFIX)
    ]
    return list(dict.fromkeys(keys))


# ----------------------------------------------------------------------------------------- the message
def _refresh_command(region: str, misses: Sequence[MissingPrice], output: str) -> tuple[str, list[str]]:
    """The `inferwise prices refresh` command for one Region, and the keys it cannot fetch."""
    from inferwise.cost.refresh.names import BEDROCK_MODEL_IDS, SERVICES

    services: list[str] = []
    types: list[str] = []
    models: list[str] = []
    by_hand: list[str] = []
    for miss in misses:
        refreshable = miss.service in SERVICES
        if miss.service == "AmazonBedrock" and miss.sku not in BEDROCK_MODEL_IDS:
            refreshable = False
        if not refreshable:
            by_hand.append(miss.key)
            continue
        services.append(miss.service)
        if miss.service in ("AmazonEC2", "AmazonSageMaker") and "." in miss.sku:
            types.append(miss.sku)
        if miss.service == "AmazonBedrock":
            models.append(miss.sku)
    if not services:
        return "", list(dict.fromkeys(by_hand))
    parts = ["inferwise prices refresh", f"--region {region}"]
    parts.append("--services " + ",".join(dict.fromkeys(services)))
    parts.extend(f"--instance-type {t}" for t in dict.fromkeys(types))
    parts.extend(f"--model {m}" for m in dict.fromkeys(models))
    parts.append(f"--output {output}")
    return " ".join(parts), list(dict.fromkeys(by_hand))


def missing_prices_message(
    missing: Iterable[MissingPrice], *, override_file: str | None = None, lead: str = ""
) -> str:
    """One message naming every missing price (by stack and construct) and how to fill them all at once."""
    misses = sorted(set(missing), key=lambda m: (m.stack_path, m.construct_path, m.key))
    keys = list(dict.fromkeys(m.key for m in misses))
    stacks = list(dict.fromkeys(m.stack_path for m in misses))
    regions = sorted({m.region for m in misses})
    count = f"{len(keys)} price is" if len(keys) == 1 else f"{len(keys)} prices are"
    lines = [
        f"{lead}inferwise: {count} missing from the price catalogue for {', '.join(regions)} "
        f"({'stack' if len(stacks) == 1 else 'stacks'} {', '.join(stacks)}); no cost estimate is made with a "
        "missing price. Missing prices (service/sku/Region/dimension) by construct:"
    ]
    for path in dict.fromkeys(m.construct_path for m in misses):
        lines.append(f"  {path}:")
        lines.extend(f"    {m.key}" for m in misses if m.construct_path == path)
    output = override_file or DEFAULT_OVERRIDE_FILE
    by_hand: list[str] = []
    commands = []
    for region in regions:
        command, manual = _refresh_command(region, [m for m in misses if m.region == region], output)
        by_hand.extend(manual)
        if command:
            commands.append(f"  {command}")
    if commands:
        lines.append(
            "Fetch them from the AWS Price List (needs pricing:GetProducts) into a price override file:"
        )
        lines.extend(commands)
    if by_hand:
        lines.append(
            "Not fetched by the refresh (Spot discounts are assumptions, not AWS prices; other keys are outside its "
            "tables); add these records to the same file by hand (format and Spot discounts: docs/prices.md): "
            f"{', '.join(dict.fromkeys(by_hand))}"
        )
    if override_file:
        lines.append(f'cdk.json context "{CONTEXT_KEY}" already names {override_file}; synthesize again.')
    else:
        lines.append(
            f'Then name the file in cdk.json: {{"context": {{"{CONTEXT_KEY}": "{output}"}}}} (a path relative '
            "to where cdk synth runs) and synthesize again."
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ cost_estimate
class _CostEstimateAttribute:
    """`construct.cost_estimate`: the recorded estimate, or `MissingPricesError` while a price it used is missing."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        estimate = instance.__dict__.get(_ESTIMATE_ATTRIBUTE)
        if estimate is None:
            raise AttributeError(f"{type(instance).__name__} has no cost_estimate yet")
        _raise_if_incomplete(instance, estimate)
        return estimate

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[_ESTIMATE_ATTRIBUTE] = value


def _raise_if_incomplete(construct: IConstruct, estimate: Any) -> None:
    log = _log_of(construct, create=False)
    own = log.of_construct(construct.node.path) if log is not None else []
    marked = missing_in(estimate) if isinstance(estimate, CostEstimate) else []
    if not own and not marked:
        return
    everything = log.all() if log is not None else []
    if not everything:
        stack = Stack.of(construct).node.path
        everything = [_from_key(stack, construct.node.path, key) for key in marked]
    lead = f"cost_estimate of {construct.node.path} is incomplete. "
    raise MissingPricesError(
        missing_prices_message(everything, override_file=log.override_file if log else None, lead=lead),
        everything,
    )


def _from_key(stack_path: str, construct_path: str, key: str) -> MissingPrice:
    service, rest = key.split("/", 1)
    sku, region, dimension = rest.rsplit("/", 2)
    return MissingPrice(stack_path, construct_path, service, sku, region, dimension)


def _guard_cost_estimate(construct: IConstruct) -> bool:
    """Make `cost_estimate` a guarded attribute of the construct's class; False if the class defines its own."""
    cls = type(construct)
    for klass in cls.__mro__:
        defined = klass.__dict__.get("cost_estimate")
        if isinstance(defined, _CostEstimateAttribute):
            return True
        if defined is not None:
            return False
    attribute = _CostEstimateAttribute()
    attribute.__set_name__(cls, "cost_estimate")
    setattr(cls, "cost_estimate", attribute)  # noqa: B010 - installed on the class, read per instance
    return True


def record_estimate(
    construct: IConstruct,
    estimate: CostEstimate,
    main_resource: CfnResource,
    *,
    extra_assumptions: tuple[str, ...] = (),
) -> CostEstimate:
    """Stamp `estimate` with the construct's path (and `extra_assumptions`, e.g. figures taken from a
    usage file) and make it visible three ways.

    It becomes `construct.cost_estimate`, the `inferwise:cost` Metadata of `main_resource` in the template
    (so `inferwise report` and `inferwise diff` work from a cloud assembly alone), and a one-line info
    annotation (no stack trace; context `inferwise:annotate: false` drops it). Every taggable resource under
    the construct is tagged `inferwise:stack` and `inferwise:construct` (`tag_resources`), so `inferwise
    actual` finds its spend. Returns the stamped estimate.

    An estimate made with a missing price (see `RecordingCatalog`) is recorded with its placeholder lines
    marked, reading `construct.cost_estimate` raises `MissingPricesError`, and synth fails with the stack's
    missing prices; it never passes for a complete estimate.
    """
    path = construct.node.path
    stamped = dataclasses.replace(
        estimate,
        construct_path=path,
        assumptions=estimate.assumptions + extra_assumptions,
        baseline=None
        if estimate.baseline is None
        else dataclasses.replace(estimate.baseline, construct_path=path),
    )
    main_resource.add_metadata(COST_METADATA_KEY, stamped.to_json())
    missing = missing_in(stamped)
    if missing:
        _annotate(construct, f"inferwise: no estimate, {len(missing)} price(s) missing: {', '.join(missing)}")
    else:
        _annotate(construct, f"inferwise: {estimate_summary(stamped)}")
    tag_resources(construct)
    if _guard_cost_estimate(construct):
        construct.__dict__[_ESTIMATE_ATTRIBUTE] = stamped
    else:
        setattr(construct, "cost_estimate", stamped)  # noqa: B010 - constructs expose it as a public attribute
    return stamped


def _annotate(construct: IConstruct, message: str) -> None:
    """One info annotation on `construct`, without the JavaScript stack trace `Annotations.add_info` records.

    `Annotations.of(x).add_info` stores a stack trace of the jsii runtime with the entry, which the CDK CLI
    prints as a `.../lib/program.js:1:5591` line above every message. The entry is written directly, with no
    trace; context `inferwise:annotate: false` drops it (the cost report table says the same).
    """
    if str(construct.node.try_get_context(ANNOTATE_CONTEXT_KEY)).lower() == "false":
        return
    if any(entry.type == _INFO and entry.data == message for entry in construct.node.metadata):
        return
    construct.node.add_metadata(_INFO, message, stack_trace=False)


def tag_resources(construct: IConstruct) -> None:
    """Tag every taggable resource under `construct` with `inferwise:stack` and `inferwise:construct`.

    The values come from `inferwise.cost.tagging` (shortened with a hash where AWS limits apply), the rule
    `inferwise actual` reads the bill with. CDK's tag aspect reaches every taggable L1 under the construct,
    including those tagged through `ResourceTags` (Budgets), except `NOT_TAGGED_TYPES`; user tags from
    `Tags.of(...)` still apply. `TAG_PRIORITY` keeps a same-key user tag at default priority from replacing
    these; a construct inside another is visited later, so its resources carry its own path.
    """
    try:
        stack = Stack.of(construct)
    except RuntimeError:
        return
    name = stack.stack_name
    stack_value = name if Token.is_unresolved(name) else stack_tag_value(name)
    for key, value in (
        (STACK_TAG_KEY, stack_value),
        (CONSTRUCT_TAG_KEY, construct_tag_value(construct.node.path)),
    ):
        Tags.of(construct).add(
            key, value, priority=TAG_PRIORITY, exclude_resource_types=list(NOT_TAGGED_TYPES)
        )
