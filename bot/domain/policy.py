"""The lender's per-product collections policy, read from ``collections_policy.yml``.

The file has a ``default`` section and optional ``products`` entries; a product
entry overrides any subset of the default fields (the ``hardship`` and
``settlement`` sections are merged key by key). Everything is validated when
the file is loaded, so a bad edit fails at start-up with a message naming the
product and the field instead of surfacing mid-conversation.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from bot.domain.payments import AgreementRules

DEFAULT = "default"


class PolicyError(ValueError):
    """The policy file or data is malformed."""


@dataclass(frozen=True)
class HardshipPolicy:
    max_holiday_months: int
    max_months: int
    min_instalment: Decimal


@dataclass(frozen=True)
class SettlementPolicy:
    min_days_past_due: int
    initial_discount: Decimal
    max_discount: Decimal
    max_days_to_pay: int


@dataclass(frozen=True)
class EscalationPolicy:
    """When a loan's borrower counts as unwilling to pay (issue 14): at least
    `min_days_past_due` behind with `broken_agreements` broken agreements or `refusals`
    refusals recorded by the team; then a final notice, and a person reviews the loan
    `final_notice_days` after the borrower was told. Never automatic legal action."""

    min_days_past_due: int = 90
    broken_agreements: int = 2
    refusals: int = 2
    final_notice_days: int = 14


@dataclass(frozen=True)
class ProductPolicy:
    product: str
    min_instalment: Decimal
    max_months: int
    plan_lengths: tuple[int, ...]
    max_promise_days: int
    max_days_to_first_instalment: int
    hardship: HardshipPolicy
    settlement: SettlementPolicy
    # Optional in the file (these defaults otherwise): the agreement lifecycle and escalation.
    agreements: AgreementRules = field(default_factory=AgreementRules)
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)


_TOP_FIELDS = (
    "min_instalment",
    "max_months",
    "plan_lengths",
    "max_promise_days",
    "max_days_to_first_instalment",
    "hardship",
    "settlement",
    "agreements",
    "escalation",
)
_HARDSHIP_FIELDS = ("max_holiday_months", "max_months", "min_instalment")
_SETTLEMENT_FIELDS = ("min_days_past_due", "initial_discount", "max_discount", "max_days_to_pay")
_AGREEMENT_FIELDS = ("grace_days", "missed_to_break_plan")
_ESCALATION_FIELDS = ("min_days_past_due", "broken_agreements", "refusals", "final_notice_days")
_SECTIONS = {
    "hardship": _HARDSHIP_FIELDS,
    "settlement": _SETTLEMENT_FIELDS,
    "agreements": _AGREEMENT_FIELDS,
    "escalation": _ESCALATION_FIELDS,
}


class PolicyBook:
    """All product policies, validated; look one up with :meth:`for_product`."""

    def __init__(self, default: ProductPolicy, products: Mapping[str, ProductPolicy]):
        self._default = default
        self._products = dict(products)

    @classmethod
    def load(cls, path: str | Path) -> PolicyBook:
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_dict(data)
        except PolicyError as exc:
            raise PolicyError(f"{path}: {exc}") from exc

    @classmethod
    def from_dict(cls, data: Any) -> PolicyBook:
        if not isinstance(data, Mapping):
            raise PolicyError("the policy must be a mapping with a 'default' section")
        unknown = sorted(str(k) for k in data if k not in (DEFAULT, "products"))
        if unknown:
            raise PolicyError(f"unknown top-level key(s) {', '.join(unknown)}; expected 'default' and 'products'")
        if DEFAULT not in data:
            raise PolicyError("missing the 'default' section")
        raw_default = _section(data[DEFAULT], DEFAULT, "", _TOP_FIELDS)
        default = _build(DEFAULT, raw_default)

        raw_products = data.get("products") or {}
        if not isinstance(raw_products, Mapping):
            raise PolicyError("'products' must be a mapping of product name to overrides")
        products: dict[str, ProductPolicy] = {}
        for name, overrides in raw_products.items():
            if not isinstance(name, str) or not name.strip():
                raise PolicyError(f"product names must be non-empty strings, got {name!r}")
            if name == DEFAULT:
                raise PolicyError("'default' cannot be used as a product name")
            overrides = _section(overrides if overrides is not None else {}, name, "", _TOP_FIELDS)
            products[name] = _build(name, _merge(raw_default, overrides, name))
        return cls(default, products)

    def for_product(self, product: str) -> ProductPolicy:
        """The product's policy; products without an entry get the default (``product == "default"``)."""
        return self._products.get(product, self._default)

    @property
    def default(self) -> ProductPolicy:
        return self._default

    @property
    def products(self) -> tuple[str, ...]:
        """Products with their own entry, in file order (``default`` not included)."""
        return tuple(self._products)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, which YAML would otherwise silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _where(product: str, field: str) -> str:
    return f"product {product!r}, field {field!r}"


def _section(value: Any, product: str, prefix: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        where = _where(product, prefix.rstrip(".")) if prefix else f"product {product!r}"
        raise PolicyError(f"{where}: must be a mapping of field: value, got {value!r}")
    unknown = [str(k) for k in value if k not in allowed]
    if unknown:
        raise PolicyError(
            f"{_where(product, prefix + unknown[0])}: unknown field; expected one of {', '.join(allowed)}"
        )
    return dict(value)


def _merge(default: dict[str, Any], overrides: dict[str, Any], product: str) -> dict[str, Any]:
    merged = dict(default)
    for key, value in overrides.items():
        if key in _SECTIONS:
            section = _section(value, product, key + ".", _SECTIONS[key])
            base = default.get(key)
            merged[key] = {**(base if isinstance(base, Mapping) else {}), **section}
        else:
            merged[key] = value
    return merged


def _build(product: str, raw: dict[str, Any]) -> ProductPolicy:
    hardship_raw = _section(_require(raw, "hardship", product), product, "hardship.", _HARDSHIP_FIELDS)
    settlement_raw = _section(_require(raw, "settlement", product), product, "settlement.", _SETTLEMENT_FIELDS)

    max_months = _positive_int(raw, "max_months", product, minimum=2)
    plan_lengths = _plan_lengths(raw, product, max_months)
    hardship = HardshipPolicy(
        max_holiday_months=_positive_int(hardship_raw, "max_holiday_months", product, "hardship."),
        max_months=_positive_int(hardship_raw, "max_months", product, "hardship.", minimum=2),
        min_instalment=_amount(hardship_raw, "min_instalment", product, "hardship."),
    )
    initial = _fraction(settlement_raw, "initial_discount", product, "settlement.")
    maximum = _fraction(settlement_raw, "max_discount", product, "settlement.")
    if initial > maximum:
        raise PolicyError(
            f"{_where(product, 'settlement.initial_discount')}: {initial} is larger than "
            f"settlement.max_discount {maximum}"
        )
    settlement = SettlementPolicy(
        min_days_past_due=_positive_int(settlement_raw, "min_days_past_due", product, "settlement."),
        initial_discount=initial,
        max_discount=maximum,
        max_days_to_pay=_positive_int(settlement_raw, "max_days_to_pay", product, "settlement."),
    )
    return ProductPolicy(
        agreements=_agreement_rules(raw, product),
        escalation=_escalation(raw, product),
        product=product,
        min_instalment=_amount(raw, "min_instalment", product),
        max_months=max_months,
        plan_lengths=plan_lengths,
        max_promise_days=_positive_int(raw, "max_promise_days", product),
        max_days_to_first_instalment=_positive_int(raw, "max_days_to_first_instalment", product),
        hardship=hardship,
        settlement=settlement,
    )


def _agreement_rules(raw: Mapping[str, Any], product: str) -> AgreementRules:
    """The optional `agreements` section; each field it leaves out keeps its default."""
    given = _section(raw.get("agreements") or {}, product, "agreements.", _AGREEMENT_FIELDS)
    default = AgreementRules()
    merged = {"grace_days": default.grace_days, "missed_to_break_plan": default.missed_to_break_plan, **given}
    return AgreementRules(
        grace_days=_positive_int(merged, "grace_days", product, "agreements.", minimum=0),
        missed_to_break_plan=_positive_int(merged, "missed_to_break_plan", product, "agreements."),
    )


def _escalation(raw: Mapping[str, Any], product: str) -> EscalationPolicy:
    """The optional `escalation` section; each field it leaves out keeps its default."""
    given = _section(raw.get("escalation") or {}, product, "escalation.", _ESCALATION_FIELDS)
    default = EscalationPolicy()
    merged = {name: getattr(default, name) for name in _ESCALATION_FIELDS} | given
    return EscalationPolicy(
        min_days_past_due=_positive_int(merged, "min_days_past_due", product, "escalation."),
        broken_agreements=_positive_int(merged, "broken_agreements", product, "escalation."),
        refusals=_positive_int(merged, "refusals", product, "escalation."),
        final_notice_days=_positive_int(merged, "final_notice_days", product, "escalation."),
    )


def _require(raw: Mapping[str, Any], key: str, product: str, prefix: str = "") -> Any:
    if key not in raw or raw[key] is None:
        raise PolicyError(f"{_where(product, prefix + key)}: missing (and no default)")
    return raw[key]


def _positive_int(raw: Mapping[str, Any], key: str, product: str, prefix: str = "", minimum: int = 1) -> int:
    value = _require(raw, key, product, prefix)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{_where(product, prefix + key)}: must be a whole number, got {value!r}")
    if value < minimum:
        raise PolicyError(f"{_where(product, prefix + key)}: must be at least {minimum}, got {value}")
    return value


def _decimal(raw: Mapping[str, Any], key: str, product: str, prefix: str) -> Decimal:
    value = _require(raw, key, product, prefix)
    if isinstance(value, float):
        raise PolicyError(
            f'{_where(product, prefix + key)}: write it as a quoted string (e.g. "{value}") '
            f"so it is read exactly, got the number {value!r}"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PolicyError(f"{_where(product, prefix + key)}: must be a quoted number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PolicyError(f"{_where(product, prefix + key)}: not a number: {value!r}") from None
    if not number.is_finite():
        raise PolicyError(f"{_where(product, prefix + key)}: must be a finite number, got {value!r}")
    return number


def _amount(raw: Mapping[str, Any], key: str, product: str, prefix: str = "") -> Decimal:
    number = _decimal(raw, key, product, prefix)
    if number <= 0:
        raise PolicyError(f"{_where(product, prefix + key)}: must be a positive amount, got {number}")
    return number


def _fraction(raw: Mapping[str, Any], key: str, product: str, prefix: str = "") -> Decimal:
    number = _decimal(raw, key, product, prefix)
    if not Decimal(0) <= number < Decimal(1):
        raise PolicyError(
            f"{_where(product, prefix + key)}: must be a fraction from 0 up to (not including) 1, "
            f'e.g. "0.10" for 10%, got {number}'
        )
    return number


def _plan_lengths(raw: Mapping[str, Any], product: str, max_months: int) -> tuple[int, ...]:
    value = _require(raw, "plan_lengths", product)
    where = _where(product, "plan_lengths")
    if not isinstance(value, (list, tuple)) or not value:
        raise PolicyError(f"{where}: must be a non-empty list of months, got {value!r}")
    lengths = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int):
            raise PolicyError(f"{where}: every length must be a whole number of months, got {item!r}")
        if item < 2:
            raise PolicyError(f"{where}: a plan needs at least 2 months, got {item}")
        if item > max_months:
            raise PolicyError(f"{where}: {item} is longer than max_months ({max_months})")
        if item in lengths:
            raise PolicyError(f"{where}: {item} is listed twice")
        lengths.append(item)
    return tuple(sorted(lengths))
