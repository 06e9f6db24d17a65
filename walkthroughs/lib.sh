# Sourced by every walkthrough: where the API is, three helpers, and what earlier walkthroughs kept.
set -euo pipefail
B=${DESKLINE_URL:-http://127.0.0.1:8000}
STATE=${WALKTHROUGH_STATE:-var/walkthrough.env}; mkdir -p "$(dirname "$STATE")"
SAMPLES=walkthroughs/samples
# curl that stops the walkthrough on any answer but 2xx, printing the problem it got
call() { curl -sS --fail-with-body "$@"; echo; }
# one field of the JSON answer on stdin, by path: `field id`, `field payment.client_secret`, `field slots.0.starts_at`
field() {
  python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value)' "$1"
}
# an access token for a user
token() { call "$B/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | field access_token; }
# remember variables for the walkthroughs that follow
keep() { for name in "$@"; do echo "$name=${!name@Q}" >> "$STATE"; done; }
if [ -f "$STATE" ]; then . "$STATE"; fi
