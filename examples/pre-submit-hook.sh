#!/bin/sh
# A clearinghouse pre-submission hook built on edi-rehab: one 837P in, a decision out.
#
#   pre-submit-hook.sh FILE OUTBOX HOLDBOX ACKBOX
#
# For FILE (as the submitter sent it) the hook
#   * validates it against 005010X222A1 with pyx12 and writes the 999 for the submitter's
#     software to ACKBOX/NAME.999 (NAME is FILE's base name);
#   * runs the therapy rules (units and minutes, modifiers, NCCI pairs, claim totals);
#   * HOLD_MODE=split (default): sends the claims with no error on to OUTBOX/NAME and keeps
#     the others in HOLDBOX/NAME, with HOLDBOX/NAME.json saying why each was held;
#     HOLD_MODE=block: sends the whole file on, or holds all of it in HOLDBOX/NAME (with
#     HOLDBOX/NAME.json, the check's JSON report) when any claim has an error.
# Warnings (e.g. modifier order) pass with the file and are listed in the JSON; FAIL_ON=warning
# makes them hold claims too. EDI_REHAB names the command (default: edi-rehab).
# The configuration is the edi-rehab.toml (or pyproject.toml [tool.edi-rehab]) found from the
# folder the hook is started in, as for every edi-rehab command.
# The interchanges it writes (OUTBOX/NAME, HOLDBOX/NAME, the 999) take their ISA13/GS06 from
# edi-rehab's per-sender counter, so hooks running at the same moment never repeat one;
# EDI_REHAB_STATE_DIR names the folder that keeps it (default: the user's state folder).
#
# Exit codes, for the pipeline that calls the hook:
#   0  forwarded whole to OUTBOX;
#   1  held, in part (split: the clean claims were forwarded) or whole (block);
#   2  rejected: not X12, not an 837P, or a version pyx12 cannot validate; nothing forwarded
#      (the 999 says why when pyx12 could build one).
set -u

if [ "$#" -ne 4 ]; then
    echo "usage: $0 FILE OUTBOX HOLDBOX ACKBOX" >&2
    exit 2
fi
file=$1 outbox=$2 holdbox=$3 ackbox=$4
name=$(basename "$file")
mode=${HOLD_MODE:-split}
fail_on=${FAIL_ON:-error}
edi_rehab=${EDI_REHAB:-edi-rehab}
mkdir -p "$outbox" "$holdbox" "$ackbox" || exit 2

# A number out of a JSON report: json_value FILE KEY.KEY (python3 is there: edi-rehab runs on it).
json_value() {
    python3 -c 'import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[key]
print(value)' "$1" "$2"
}

if [ "$mode" = block ]; then
    # The file goes in on standard input; the JSON report comes out on standard output.
    "$edi_rehab" check --validate --quiet --fail-on "$fail_on" --ack "$ackbox/$name.999" \
        --format json - < "$file" > "$holdbox/$name.json"
    status=$?
    case $status in
    0)
        cp "$file" "$outbox/$name" || exit 2
        rm -f "$holdbox/$name.json"
        echo "$name: forwarded"
        exit 0 ;;
    1)
        cp "$file" "$holdbox/$name" || exit 2
        errors=$(json_value "$holdbox/$name.json" summary.error)
        warnings=$(json_value "$holdbox/$name.json" summary.warning)
        echo "$name: held whole ($errors error(s), $warnings warning(s)); see $holdbox/$name.json"
        exit 1 ;;
    *)
        rm -f "$holdbox/$name.json"
        echo "$name: rejected (unreadable or not validated); see $ackbox/$name.999 if one was written" >&2
        exit 2 ;;
    esac
fi

# Claim by claim: the clean claims go on now, the rest wait with the reasons.
"$edi_rehab" split "$file" --validate --fail-on "$fail_on" --ack "$ackbox/$name.999" \
    --clean "$outbox/$name" --held "$holdbox/$name" --report "$holdbox/$name.json" > /dev/null
status=$?
case $status in
0)
    rm -f "$holdbox/$name.json"
    echo "$name: forwarded"
    exit 0 ;;
1)
    clean=$(json_value "$holdbox/$name.json" clean.claims)
    held=$(json_value "$holdbox/$name.json" held.claims)
    echo "$name: $clean claim(s) forwarded, $held held; see $holdbox/$name.json"
    exit 1 ;;
*)
    echo "$name: rejected (unreadable, not an 837P, or not validated); nothing forwarded" >&2
    exit 2 ;;
esac
