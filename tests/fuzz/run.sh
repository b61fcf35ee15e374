#!/usr/bin/env bash
# Fuzzes the whole API contract (openapi.yaml) with schemathesis against a fresh server:
# every operation, every check, a fixed seed.
#
#   tests/fuzz/run.sh [path-to-binary]     (default target/debug/socialgate)
#
# Needs curl, python3 with `requests`, and schemathesis 4 (the configuration below is 4.x's):
#   pip install 'schemathesis==4.32.5' requests
# The exit code is schemathesis's (another non-zero one when the server cannot be set up). Knobs:
#   FUZZ_MAX_EXAMPLES  test cases per operation and phase (default 25; a run takes 2-3 minutes)
#   FUZZ_ARGS          more `st run` options, e.g. '--include-path-regex ^/user'
#   FUZZ_KEEP=1        keep the temporary directory (database, server log, schemathesis.toml)
#   FUZZ_PORT          the port to serve on (default: a free one)
set -euo pipefail

cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-target/debug/socialgate}")
[[ -x $bin ]] || { echo "run.sh: no server binary at $bin" >&2; exit 2; }
version=$(st --version 2>/dev/null || true)
[[ $version == *"version 4."* ]] || { echo "run.sh: needs schemathesis 4 (st), found: ${version:-none}" >&2; exit 2; }

dir=
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -z $dir ]]; then
        return
    elif [[ ${FUZZ_KEEP:-} == 1 ]]; then
        echo "run.sh: kept $dir (server log: $dir/server.log)" >&2
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT
dir=$(mktemp -d "${TMPDIR:-/tmp}/socialgate-fuzz.XXXXXX")
port=${FUZZ_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
base=http://127.0.0.1:$port

# The server's whole configuration: a throwaway SQLite installation, no rate limits (0 turns
# them off), the sandbox network (on by default) and open sign-ups (the default).
export DATABASE_URL="sqlite://$dir/socialgate.db"
export SOCIALGATE_DATA_DIR="$dir"
export SOCIALGATE_LISTEN="127.0.0.1:$port"
export SOCIALGATE_PUBLIC_URL="$base"
export SOCIALGATE_API_RATE=0
export SOCIALGATE_API_LIMIT=0
# The server's own address counts as an internal CDN, so upload-from-url and webhooks have a
# URL that works without the outside world (the fuzzer is given the uploaded PNG's).
export SOCIALGATE_FETCH_TRUSTED_HOSTS="127.0.0.1:$port"
export SOCIALGATE_SANDBOX=true
export SOCIALGATE_LOG_FORMAT=json
export RUST_LOG=${RUST_LOG:-warn}
# A .env in the working directory would be read too: run from an empty one.
cd "$dir"

"$bin" migrate >/dev/null
email=fuzz@example.com
password=fuzz-password-0123456789
"$bin" admin create-user --email "$email" --password "$password" --name Fuzz --org Fuzz >/dev/null
json_field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
key=$(json_field "$("$bin" admin create-api-key --org Fuzz --name fuzz)" key)
# An OAuth client of another organization (so the session's own app routes never delete or
# rotate it): the OAuth endpoints get its credentials, the consent screen approves it.
"$bin" admin create-user --email apps@example.com --password "$password" --name Apps --org FuzzApps >/dev/null
app=$("$bin" admin create-oauth-app --org FuzzApps --name "Fuzz client" --redirect-uri http://127.0.0.1:9/callback)
client_id=$(json_field "$app" client_id)
client_secret=$(json_field "$app" client_secret)

"$bin" serve >"$dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$base/ready" 2>/dev/null; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: the server exited:" >&2
        cat "$dir/server.log" >&2
        exit 2
    fi
    sleep 0.2
done
curl -fsS -o /dev/null "$base/ready"

cd - >/dev/null
provisioned=$(python3 tests/fuzz/provision.py "$base" "$key" "$email" "$password" "$client_id" "$client_secret")
echo "run.sh: server at $base, provisioned $provisioned" >&2
field() { python3 -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(", ".join(map(json.dumps, v)) if isinstance(v, list) else v)' "$provisioned" "$1"; }
session=$(field session)
csrf=$(field csrf)

# The run's configuration. Credentials go by the spec's security schemes: the API key to the
# `credential` routes, the session cookie to the `session` ones, nothing to the public ones
# (so `ignored_auth` can check each scheme). Half the time, ids are ones that exist, so the
# fuzzer reaches past "not found"; the deleting operations get their own spare ones.
config=$dir/schemathesis.toml
cat >"$config" <<TOML
# Nothing kept between runs (no .schemathesis/ in the checkout): each run stands alone.
[cache]
enabled = false

[auth.openapi.credential]
api_key = "$key"

[auth.openapi.session]
api_key = "$session"

[parameters]
"header.X-CSRF-Token" = "$csrf"
"body.csrf_token" = "$csrf"
"path.id" = { dictionary = "ids", probability = 0.5 }
"path.integration" = { dictionary = "channels", probability = 0.5 }
"body.posts[*].integration.id" = { dictionary = "channels", probability = 0.5 }
"body.methodName" = { dictionary = "tools", probability = 0.5 }
"query.client_id" = { dictionary = "client_ids", probability = 0.5 }
"body.client_id" = { dictionary = "client_ids", probability = 0.5 }
"body.client_secret" = { dictionary = "client_secrets", probability = 0.5 }
"body.token" = { dictionary = "tokens", probability = 0.5 }
"body.url" = { dictionary = "urls", probability = 0.5 }
"body.channels[*]" = { dictionary = "channels", probability = 0.5 }
"body.redirect_uris[*]" = { dictionary = "redirect_uris", probability = 0.5 }
"body.posts[*].value[*].image[*].id" = { dictionary = "media", probability = 0.5 }
"body.posts[*].value[*].image[*].path" = { dictionary = "urls", probability = 0.5 }

[dictionaries.ids]
values = ["$(field channel)", "$(field media)", $(field posts)]

[dictionaries.channels]
values = ["$(field channel)"]

[dictionaries.tools]
values = ["channels"]

[dictionaries.media]
values = ["$(field media)"]

[dictionaries.urls]
values = ["$(field media_path)"]

[dictionaries.redirect_uris]
values = ["https://app.example/callback", "http://127.0.0.1:8000/callback", "cursor://socialgate/callback"]

[dictionaries.client_ids]
values = ["$client_id"]

[dictionaries.client_secrets]
values = ["$client_secret"]

[dictionaries.tokens]
values = ["$(field token)"]

[dictionaries.spare_channel]
values = ["$(field spare_channel)"]

[dictionaries.spare_post]
values = ["$(field spare_post)"]

[dictionaries.spare_group]
values = ["$(field spare_group)"]

# Without a key: the fuzzer draws the same few Idempotency-Key values again and again, and
# each repeat with another body is 422, so almost no post would get created. The header is
# fuzzed on the other POST routes.
[[operations]]
include-operation-id = "createPosts"
parameters = { "header.Idempotency-Key" = "" }

# The deleting operations take spare ids, and not the ids other answers showed (those include
# the kept channel and posts, which the rest of the run needs).
[[operations]]
include-operation-id = ["deleteIntegration", "deletePost", "deleteGroup"]
phases.examples.extra-data-sources.responses = false
phases.coverage.extra-data-sources.responses = false
phases.fuzzing.extra-data-sources.responses = false

[[operations]]
include-operation-id = "deleteIntegration"
parameters = { "path.id" = { dictionary = "spare_channel", probability = 0.5 } }

[[operations]]
include-operation-id = "deletePost"
parameters = { "path.id" = { dictionary = "spare_post", probability = 0.5 } }

[[operations]]
include-operation-id = "deleteGroup"
parameters = { "path.group" = { dictionary = "spare_group", probability = 0.5 } }

# Off: after a 401 from an operation without declared security, this feature retries it with
# the configured credentials and keeps them when the answer changes. The OAuth endpoints answer
# 401 invalid_client without client credentials, and 400 to an API key (it is not HTTP Basic),
# so the API key would end up sent to them for the rest of the run.
[phases.fuzzing.error-feedback]
enabled = false

# Schema-valid requests these operations may refuse with 400 for reasons no schema can state:
# the id, code or request must exist on the server, the network must be configured, the URL
# must be reachable https on a public address, the redirect URI must pass RFC 8252 rules, the
# file's bytes must be an image or video (its declared type is not trusted). 422: see below.
[[operations]]
include-operation-id = [
  "connectUrl", "createPosts", "updatePost", "setPostStatus", "setPostSettings", "upload",
  "uploadFromUrl", "authorize", "answerConsent", "deviceEnterCode", "token", "registerClient",
  "postizDeviceToken", "createOAuthApp", "updateOAuthApp", "rotateOAuthAppSecret",
  "createWebhook",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]

# An Idempotency-Key the fuzzer happens to repeat with another body is 422 by design (and
# 409 while the first request runs, which the check allows already).
[[operations]]
include-operation-id = "integrationTrigger"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

# Pages refuse a visitor without a session by sending the browser to the sign-in page, and
# the authorization endpoint sends errors back to the app's redirect URI (RFC 6749 4.1.2.1).
[[operations]]
include-operation-id = ["authorize", "devicePage", "deviceEnterCode", "answerConsent"]
checks.negative_data_rejection.expected-statuses = ["303", "400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429"]

# JSON-RPC: an invalid request to a known method is answered in a 200 body (-32602 invalid
# params, -32601 unknown method), and notifications are acknowledged with 202 (MCP transport).
[[operations]]
include-operation-id = ["mcp"]
checks.negative_data_rejection.expected-statuses = ["200", "202", "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
TOML

# No check is excluded. One worker: with two, hypothesis (describing its filters through
# `ast.parse` in threads) sometimes dies on CPython 3.11 with "AST constructor recursion depth
# mismatch". Redirects are not followed: a 303 is an answer to check, and the OAuth ones lead
# to redirect URIs that are not ours.
status=0
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
st --config-file "$config" run openapi.yaml \
    --url "$base" \
    --checks all \
    --seed 20261130 \
    --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
    --workers 1 \
    --max-redirects 0 \
    --generation-database none \
    --request-timeout 30 \
    --no-color \
    ${FUZZ_ARGS:-} || status=$?

if [[ $status -ne 0 ]]; then
    echo "run.sh: schemathesis failed ($status); last server log lines:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
fi
exit "$status"
