#!/bin/bash
# Regenerates the throwaway test PKI used by tls_connection_test: a CA, a
# server certificate for localhost / 127.0.0.1 and a client certificate, all
# signed by the CA and valid for 100 years, plus an unrelated CA that trusts
# none of them. Test-only keys: never use them
# anywhere else.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $days \
  -subj "/CN=magiclink test CA" -keyout ca.key -out ca.pem
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout server.key -out server.csr
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
  -extfile <(printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth") \
  -out server.pem
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=magiclink test client" -keyout client.key -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
  -extfile <(printf "extendedKeyUsage=clientAuth") -out client.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $days \
  -subj "/CN=some other CA" -keyout other-ca.key -out other-ca.pem
rm -f other-ca.key server.csr client.csr ca.srl ca.key
