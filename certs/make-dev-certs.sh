#!/bin/sh
# Makes a development PKI for sllp (MLLP over TLS): a CA, a server certificate for
# localhost / 127.0.0.1 / ::1, and a client certificate for mutual TLS.
#
#   sh certs/make-dev-certs.sh [OUTDIR]        (default: certs/dev)
#
# Environment: DAYS (validity, default 365), CN_PREFIX (default "mllp-dispatcher dev"),
# SERVER_NAMES (extra DNS names for the server certificate, space separated).
#
# Writes OUTDIR/{ca,server,client}.pem and .key. These are throw-away test keys: they are
# made at test time and never committed (.gitignore keeps *.key and *.pem out of git).
set -eu

out=${1:-certs/dev}
days=${DAYS:-365}
prefix=${CN_PREFIX:-mllp-dispatcher dev}
mkdir -p "$out"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

newkey "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -subj "/CN=$prefix CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$out/ca.pem" 2>/dev/null

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in ${SERVER_NAMES:-}; do san="$san,DNS:$name"; done

issue() { # name cn extendedKeyUsage subjectAltName
  newkey "$out/$1.key"
  openssl req -new -key "$out/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$3"
    [ -n "$4" ] && echo "subjectAltName=$4"
  } > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$1.ext" -out "$out/$1.pem" 2>/dev/null
}

issue server "localhost" serverAuth "$san"
issue client "$prefix client" clientAuth ""
chmod 644 "$out"/*.pem
echo "wrote $out/ca.pem, server.pem/.key, client.pem/.key (valid $days days)"
