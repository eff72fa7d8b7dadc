#!/usr/bin/env bash
# `flow` with the two shipped examples, run exactly as the README shows them (from the repository
# root, relative paths, --emulate --script): claims.json (login -> orders -> one claim per order,
# foreach) over customers.csv, report.json (login -> report -> download, an alert `when` the
# download failed) over vendors.ndjson. Every step's status and the values each step passes on;
# the same lines in input order at --parallel 6; the request --plan shows for the report's
# secure_parameters.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

# The emulator's 8 hex digits for a value: the low 32 bits of its 64-bit FNV-1a hash.
fnv8() { # text
  python3 -c '
import sys
h = 14695981039346656037
for b in sys.argv[1].encode():
    h = ((h ^ b) * 1099511628211) % 2**64
print("%08x" % (h & 0xffffffff))' "$1"
}

# One "true" line per item (for assert_jq on a per-line predicate).
trues() { # n
  local i
  for ((i = 0; i < $1; i++)); do echo true; done
}

# The customers of customers.csv (header email,since), in file order.
mapfile -t cust_emails < <(tail -n +2 examples/flows/customers.csv | sed '/^$/d' | cut -d, -f1)
mapfile -t cust_since < <(tail -n +2 examples/flows/customers.csv | sed '/^$/d' | cut -d, -f2)
NC=${#cust_emails[@]}
((NC == 3)) || fail "examples/flows/customers.csv: expected 3 customers, found $NC"

step "claims: flow examples/flows/claims.json --emulate --script ... --input examples/flows/customers.csv"
chain claims flow examples/flows/claims.json --emulate --script examples/flows/claims.script.json \
  --input examples/flows/customers.csv --no-screenshots
assert_exit 0 "$RC" "the claims example"
assert_line_count "$T/claims.out" "$NC" "one line per customer"
assert_json_lines "$T/claims.out" "stdout"
assert_all_status "$T/claims.out" success "item statuses"
assert_jq "$T/claims.out" '.item.email[0]' "$(printf '%s\n' "${cust_emails[@]}")" "items in input order"
assert_jq "$T/claims.out" '.item.since[0]' "$(printf '%s\n' "${cust_since[@]}")" "each item's since"
assert_jq "$T/claims.out" '.item | keys | join(",")' "$(printf 'email,since\n%.0s' "${cust_emails[@]}")" \
  "the item is the CSV row, as lists"
assert_jq "$T/claims.out" '.steps | keys_unsorted | join(",")' \
  "$(printf 'login,orders,claim\n%.0s' "${cust_emails[@]}")" "one entry per step"
assert_jq "$T/claims.out" 'has("error")' "$(printf 'false\n%.0s' "${cust_emails[@]}")" \
  "no error on a successful item"
assert_jq "$T/claims.out" '[.steps.login.status, .steps.orders.status] | join(" ")' \
  "$(printf 'success success\n%.0s' "${cust_emails[@]}")" "login and orders statuses"
assert_jq "$T/claims.out" '[.steps.login.endpoint_name, .steps.orders.endpoint_name] | join(" ")' \
  "$(printf 'login list-orders\n%.0s' "${cust_emails[@]}")" "the endpoints the steps ran"
assert_jq "$T/claims.out" '.steps.claim | type' "$(printf 'array\n%.0s' "${cust_emails[@]}")" \
  "the foreach step's result is a list"
assert_jq "$T/claims.out" '.steps.claim | length' "$(printf '3\n%.0s' "${cust_emails[@]}")" \
  "one claim per order (3)"
assert_jq "$T/claims.out" '[.steps.claim[].status] | join(" ")' \
  "$(printf 'success success success\n%.0s' "${cust_emails[@]}")" "every claim's status"
assert_jq "$T/claims.out" '[.steps.claim[].endpoint_name] | unique | join(",")' \
  "$(printf 'file-claim\n%.0s' "${cust_emails[@]}")" "the claims' endpoint"
assert_jq "$T/claims.out" 'has("final_screenshot") or ([.. | objects | has("final_screenshot")] | any)' \
  "$(printf 'false\n%.0s' "${cust_emails[@]}")" "--no-screenshots: no final_screenshot anywhere"

accounts=()
for e in "${cust_emails[@]}"; do accounts+=("acct-$(fnv8 "$e")"); done
assert_jq "$T/claims.out" '.steps.login.input.email[0]' "$(printf '%s\n' "${cust_emails[@]}")" \
  "login ran for the item's email"
assert_jq "$T/claims.out" '.steps.login.unique_parameter_names | join(",")' \
  "$(printf 'email\n%.0s' "${cust_emails[@]}")" "login's unique parameters"
assert_jq "$T/claims.out" '.steps.login.output_data[0].json_data.account' \
  "$(printf '%s\n' "${accounts[@]}")" "login's account is acct-{{hash:email}}"
assert_jq "$T/claims.out" '.steps.orders.input | tojson' \
  "$(for i in "${!accounts[@]}"; do
    printf '{"account":["%s"],"since":["%s"]}\n' "${accounts[$i]}" "${cust_since[$i]}"
  done)" "orders got login's account and the item's since"
assert_jq "$T/claims.out" '.steps.orders.output_data[0].json_data.orders | join(" ")' \
  "$(for a in "${accounts[@]}"; do printf '%s-A17 %s-B42 %s-C03\n' "$a" "$a" "$a"; done)" \
  "orders' list, built from the account"
assert_jq "$T/claims.out" '[.steps.claim[].input.order_id[0]] | join(" ")' \
  "$(for a in "${accounts[@]}"; do printf '%s-A17 %s-B42 %s-C03\n' "$a" "$a" "$a"; done)" \
  "one claim per order, in the list's order, each with its order_id"
assert_jq "$T/claims.out" '[.steps.claim[].input.account[0]] | join(" ")' \
  "$(for a in "${accounts[@]}"; do printf '%s %s %s\n' "$a" "$a" "$a"; done)" \
  "every claim carries login's account"
assert_jq "$T/claims.out" '[.steps.claim[].input.reason[0]] | unique | join("|")' \
  "$(for s in "${cust_since[@]}"; do printf 'Late delivery reported on %s\n' "$s"; done)" \
  "every claim's reason names the item's since"
assert_jq "$T/claims.out" '[.steps.claim[] | .output_data[0].json_data.order_id == .input.order_id[0]] | all' \
  "$(trues "$NC")" "each claim's output is for its own order"
expected_claims=$(for a in "${accounts[@]}"; do
  printf 'CLM-%s CLM-%s CLM-%s\n' "$(fnv8 "$a-A17")" "$(fnv8 "$a-B42")" "$(fnv8 "$a-C03")"
done)
assert_jq "$T/claims.out" '[.steps.claim[].output_data[0].json_data.claim_id] | join(" ")' \
  "$expected_claims" "claim ids are CLM-{{hash:order_id}}"
n_ids=$(jq -r '.steps.login.task_id, .steps.orders.task_id, .steps.claim[].task_id' "$T/claims.out" |
  sort -u | grep -c . || true)
assert_eq $((NC * 5)) "$n_ids" "distinct task ids (5 tasks per customer)"
assert_file_not_contains "$T/claims.err" "error" "stderr"

step "claims at --parallel 6: the same lines, still in input order"
chain claims_par flow examples/flows/claims.json --emulate --script examples/flows/claims.script.json \
  --input examples/flows/customers.csv --no-screenshots --parallel 6
assert_exit 0 "$RC" "the claims example at --parallel 6"
assert_line_count "$T/claims_par.out" "$NC" "one line per customer"
strip_ids='del(.. | objects | .task_id?, .recording_id?) | tojson'
assert_eq "$(jq -c "$strip_ids" "$T/claims.out")" "$(jq -c "$strip_ids" "$T/claims_par.out")" \
  "the lines without task ids, at --parallel 1 and 6"

mapfile -t vend_users < <(jq -r '.username' examples/flows/vendors.ndjson)
mapfile -t vend_months < <(jq -r '.month' examples/flows/vendors.ndjson)
NV=${#vend_users[@]}
((NV == 2)) || fail "examples/flows/vendors.ndjson: expected 2 vendors, found $NV"

step "report: flow examples/flows/report.json --emulate --script ... --input examples/flows/vendors.ndjson"
chain report flow examples/flows/report.json --emulate --script examples/flows/report.script.json \
  --input examples/flows/vendors.ndjson --no-screenshots
assert_exit 0 "$RC" "the report example"
assert_line_count "$T/report.out" "$NV" "one line per vendor"
assert_json_lines "$T/report.out" "stdout"
assert_all_status "$T/report.out" success "item statuses (a skipped alert is no failure)"
assert_jq "$T/report.out" '.item.username[0]' "$(printf '%s\n' "${vend_users[@]}")" "items in input order"
assert_jq "$T/report.out" '.steps | keys_unsorted | join(",")' \
  "$(printf 'login,report,download,alert\n%.0s' "${vend_users[@]}")" "one entry per step"
assert_jq "$T/report.out" '[.steps.login.status, .steps.report.status, .steps.download.status] | join(" ")' \
  "$(printf 'success success success\n%.0s' "${vend_users[@]}")" "login, report and download statuses"
assert_jq "$T/report.out" '.steps.alert.status' "$(printf 'skipped\n%.0s' "${vend_users[@]}")" \
  "the alert (when download failed) is skipped"
assert_jq "$T/report.out" '.steps.alert.reason | type == "string" and length > 0 and contains("download")' \
  "$(trues "$NV")" "the skipped alert says why, naming the download step"
assert_jq "$T/report.out" '.steps.alert | has("task_id")' "$(printf 'false\n%.0s' "${vend_users[@]}")" \
  "the alert was never submitted"
sessions=()
for u in "${vend_users[@]}"; do sessions+=("sess-$(fnv8 "$u")"); done
assert_jq "$T/report.out" '.steps.login.output_data[0].json_data.session' "$(printf '%s\n' "${sessions[@]}")" \
  "login's session is sess-{{hash:username}}"
assert_jq "$T/report.out" '.steps.report.input | [.session[0], .month[0], .format[0]] | join(" ")' \
  "$(for i in "${!sessions[@]}"; do printf '%s %s csv\n' "${sessions[$i]}" "${vend_months[$i]}"; done)" \
  "report got login's session, the item's month and the constant format"
report_ids=()
for i in "${!sessions[@]}"; do report_ids+=("RPT-${vend_months[$i]}-$(fnv8 "${sessions[$i]}")"); done
assert_jq "$T/report.out" '.steps.report.output_data[0].json_data.report_id' "$(printf '%s\n' "${report_ids[@]}")" \
  "report's id"
assert_jq "$T/report.out" '.steps.download.input | [.session[0], .report_id[0]] | join(" ")' \
  "$(for i in "${!sessions[@]}"; do printf '%s %s\n' "${sessions[$i]}" "${report_ids[$i]}"; done)" \
  "download got login's session and report's id"
assert_jq "$T/report.out" '.steps.download.output_data[0].json_data.file' \
  "$(printf '%s.csv\n' "${report_ids[@]}")" "download's file"
assert_file_not_contains "$T/report.err" "error" "stderr"

step "report --plan: the request the login step sends (its secure_parameters filled from the item)"
chain report_plan flow examples/flows/report.json --plan --input examples/flows/vendors.ndjson
assert_exit 0 "$RC" "report --plan"
assert_json_lines "$T/report_plan.out" "plan lines"
assert_jq "$T/report_plan.out" '.step' $'login\nreport\ndownload\nalert' "the plan's steps in order"
assert_jq "$T/report_plan.out" 'select(.step == "login") | .request.body.input_parameters | tojson' \
  "{\"username\":[\"${vend_users[0]}\"]}" "login's input_parameters for the first vendor"
# Optexity's secret references take strings (vault_name, item_name, field_name), as the tool's own
# --input/--secure-parameters check demands ("item_name" must be a non-empty string).
assert_jq "$T/report_plan.out" \
  'select(.step == "login") | .request.body.secure_parameters.password[0].onepassword | [.vault_name, .item_name, .field_name] | map(type) | join(",")' \
  "string,string,string" "the 1Password reference's fields are strings"
# Every value of secure_parameters is shown masked, even a reference's (issue 14).
assert_jq "$T/report_plan.out" \
  'select(.step == "login") | .request.body.secure_parameters.password[0].onepassword.item_name' \
  "***" "the 1Password item_name, as --plan shows it"
