"""Every rule, in one explicit table. Rule codes are public interface: never reuse a code.

Families: U units and minutes, M modifiers, N NCCI edits, C claim data, X envelope and
structure. A new rule is one function in its family module and one row here.
"""

from __future__ import annotations

from types import MappingProxyType

from ..findings import Applicability, Severity
from . import claim_rules as C
from . import envelope_rules as X
from . import modifier_rules as M
from . import ncci_rules as N
from . import place_rules as P
from . import unit_rules as U
from .base import Rule, Scope

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
LINE, GROUP, CLAIM, ENC = Scope.LINE, Scope.GROUP, Scope.CLAIM, Scope.ENCOUNTER
WARN, TX, MIN = Scope.WARNING, Scope.TRANSACTION, Scope.MINUTES
MINUTES, MUE = frozenset({"minutes"}), frozenset({"mue"})

# fmt: off
RULES: tuple[Rule, ...] = (
    # code    name                                 severity scope  check                                fix
    Rule("U101", "units-exceed-minutes",             E, GROUP, U.units_exceed_minutes,            UNSAFE, needs=MINUTES),
    Rule("U102", "units-below-minutes",              W, GROUP, U.units_below_minutes,             UNSAFE, fix_needs_selection=True, needs=MINUTES),
    Rule("U103", "units-misallocated",               W, GROUP, U.units_misallocated,              UNSAFE, needs=MINUTES),
    Rule("U104", "timed-line-without-minutes",       I, GROUP, U.timed_line_without_minutes,      needs=MINUTES),
    Rule("U105", "timed-code-split-or-range",        W, CLAIM, U.timed_code_split_or_range,       skip_when="timed_codes_distinct"),
    Rule("U106", "units-look-like-minutes",          W, CLAIM, U.units_look_like_minutes,         skip_when="timed_units_plausible"),
    Rule("U107", "minutes-basis-on-therapy-code",    E, LINE,  U.minutes_basis_on_therapy_code,   UNSAFE),
    Rule("U108", "untimed-code-multiple-units",      W, CLAIM, U.untimed_code_multiple_units,     skip_when="untimed_units_single"),
    Rule("U109", "minutes-row-unusable",             W, MIN,   U.minutes_row_unusable,            needs=MINUTES),
    Rule("U110", "minutes-row-unknown-reference",    W, MIN,   U.minutes_row_unknown_reference,   needs=MINUTES),
    Rule("U111", "therapy-code-non-unit-basis",      E, LINE,  U.therapy_code_non_unit_basis),
    Rule("U112", "units-not-positive-whole",         E, LINE,  U.units_not_positive_whole),
    Rule("U113", "assistant-modifier-under-applied", E, GROUP, U.assistant_modifier_under_applied,  needs=MINUTES),
    Rule("M201", "missing-discipline-modifier",      E, LINE,  M.missing_discipline_modifier,     UNSAFE),
    Rule("M202", "several-discipline-modifiers",     E, LINE,  M.several_discipline_modifiers),
    Rule("M203", "assistant-without-discipline",     E, LINE,  M.assistant_without_discipline),
    Rule("M204", "modifier-59-with-x",               W, LINE,  M.modifier_59_with_x,              UNSAFE),
    Rule("M205", "modifier-order",                   W, LINE,  M.modifier_order,                  SAFE),
    Rule("M206", "duplicate-modifier",               W, LINE,  M.duplicate_modifier,              SAFE),
    Rule("M207", "assistant-on-slp",                 E, LINE,  M.assistant_on_slp),
    Rule("M208", "distinct-modifier-repeats-code",   W, ENC,   M.distinct_modifier_repeats_code),
    Rule("M209", "discipline-contradicts-code",      W, LINE,  M.discipline_contradicts_code),
    Rule("M210", "discipline-differs-for-provider",  W, CLAIM, M.discipline_differs_for_provider, skip_when="one_discipline"),
    Rule("N301", "ptp-pair-without-modifier",        E, ENC,   N.ptp_pair_without_modifier,       UNSAFE),
    Rule("N302", "ptp-pair-not-allowed",             E, ENC,   N.ptp_pair_not_allowed),
    Rule("N303", "ncci-modifier-on-column-1",        W, ENC,   N.ncci_modifier_on_column1,        UNSAFE),
    Rule("N304", "ncci-modifier-without-pair",       W, ENC,   N.ncci_modifier_without_pair),
    Rule("N305", "units-above-mue",                  E, ENC,   N.units_above_mue,                 needs=MUE),
    Rule("C401", "charge-mismatch",                  E, CLAIM, C.charge_mismatch,                 UNSAFE, skip_when="charges_balance"),
    Rule("C402", "corrected-claim-without-f8",       E, CLAIM, C.corrected_claim_without_f8,      skip_when="corrections_referenced"),
    Rule("C403", "code-payer-replaces",              W, LINE,  C.code_payer_replaces),
    Rule("C404", "unlisted-code-without-description", W, LINE, C.unlisted_code_without_description),
    Rule("C405", "addon-without-primary",            E, CLAIM, C.addon_without_primary,           skip_when="no_addon_codes"),
    Rule("C406", "deleted-code",                     E, LINE,  C.deleted_code),
    Rule("C407", "claim-id-too-long",                W, CLAIM, C.claim_id_too_long,               skip_when="claim_id_short"),
    Rule("C408", "line-control-number",              W, CLAIM, C.line_control_number,             skip_when="control_numbers_distinct"),
    Rule("C409", "line-without-control-number",      I, LINE,  C.line_without_control_number),
    Rule("X001", "trailer-count-mismatch",           E, WARN,  X.trailer_count_mismatch,          SAFE),
    Rule("X002", "line-without-service-date",        E, CLAIM, X.line_without_service_date,       skip_when="lines_dated"),
    Rule("X003", "tolerated-input",                  W, WARN,  X.tolerated_input),
    Rule("X004", "control-number-mismatch",          E, WARN,  X.control_number_mismatch),
    Rule("X005", "lx-out-of-sequence",               W, CLAIM, X.lx_out_of_sequence,              skip_when="lx_in_sequence"),
    Rule("X006", "not-professional-claim",           W, TX,    X.not_professional_claim),
    Rule("X007", "sv101-foreign-component-separator", E, LINE, X.sv101_foreign_component_separator),
    Rule("M213", "assistant-on-evaluation",          E, LINE,  M.assistant_on_evaluation),
    Rule("M211", "contradictory-modifiers",          E, LINE,  M.contradictory_modifiers),
    Rule("M212", "doubtful-modifier-pair",           W, LINE,  M.doubtful_modifier_pair),
    Rule("M214", "retired-modifier",                 W, LINE,  M.retired_modifier),
    Rule("C410", "first-unit-code-above-one",        E, LINE,  C.first_unit_code_above_one),
    Rule("C411", "zero-charge-line",                 W, CLAIM, C.zero_charge_line,                skip_when="charges_nonzero"),
    Rule("C412", "two-evaluations-one-date",         E, CLAIM, C.two_evaluations_one_date,        skip_when="evaluations_single"),
    Rule("M215", "gt-on-professional-claim",         W, CLAIM, M.gt_on_professional_claim,       skip_when="no_institutional_modifiers"),
    Rule("M216", "telehealth-pos-modifier-mismatch", W, CLAIM, M.telehealth_pos_modifier_mismatch, skip_when="no_telehealth"),
    Rule("M220", "assistant-as-rendering-provider",  E, CLAIM, M.assistant_as_rendering_provider,  skip_when="renderer_is_no_assistant"),
    Rule("M221", "taxonomy-contradicts-discipline",  W, CLAIM, M.taxonomy_contradicts_discipline,  skip_when="renderer_discipline_agrees"),
    Rule("M222", "telehealth-not-covered",           W, CLAIM, P.telehealth_not_covered,           skip_when="telehealth_plain"),
    Rule("M223", "hospital-outpatient-place",        W, CLAIM, P.hospital_outpatient_place,        skip_when="hospital_plain"),
    Rule("M224", "skilled-nursing-place",            W, CLAIM, P.skilled_nursing_place,            skip_when="nursing_plain"),
    Rule("M217", "kx-on-some-lines-of-bucket",       W, CLAIM, M.kx_on_some_lines_of_bucket,      skip_when="no_threshold_attestation"),
    Rule("C413", "claim-charges-pass-threshold",     W, CLAIM, C.claim_charges_pass_threshold,    skip_when="charges_under_threshold"),
    Rule("C414", "claim-charges-pass-review-amount", I, CLAIM, C.claim_charges_pass_review_amount, skip_when="charges_under_review_amount"),
    Rule("N306", "ncci-modifier-in-one-time-block",  W, CLAIM, N.distinct_modifier_contradicted_by_time_block, needs=MINUTES, skip_when="time_blocks_distinct"),
)
# fmt: on

#: code -> Rule
BY_CODE = MappingProxyType({rule.code: rule for rule in RULES})
CODES: tuple[str, ...] = tuple(BY_CODE)


def get(code: str) -> Rule | None:
    """The rule with this code (case-insensitive), or None."""
    return BY_CODE.get(code.strip().upper())


def matching(prefix: str) -> tuple[Rule, ...]:
    """Rules whose code starts with ``prefix`` (a code or a prefix such as ``U1`` or ``N``)."""
    prefix = prefix.strip().upper()
    return tuple(rule for rule in RULES if rule.code.startswith(prefix))
