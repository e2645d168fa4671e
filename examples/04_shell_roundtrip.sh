#!/usr/bin/env bash
# Example 4 — a shell-only round trip with the compiled binary: keys, an audit (plaintext
# and CKKS), verification, a local log, a receipt checked offline, and a tampered envelope caught.
#
#   bash examples/04_shell_roundtrip.sh dist/regledger WORKDIR
set -euo pipefail
bin=$(realpath "$1")
mkdir -p "$2" && cd "$2"

"$bin" --version
"$bin" keygen --issuer "Acme Bank" --key-id acme-1 -o issuer.pem > trust.json

cat > drift-input.json <<'JSON'
{"p": [120, 80, 40, 10], "q": [100, 90, 45, 15], "drift_threshold": 0.005}
JSON
"$bin" audit drift -i drift-input.json --key issuer.pem --key-id acme-1 --issuer "Acme Bank" -o envelope.json
"$bin" verify -i envelope.json --trusted-keys trust.json --strict > verdict.json
grep -q '"valid": true' verdict.json

"$bin" ledger append --data log -i envelope.json --trusted-keys trust.json --receipt receipt.tlog-proof > appended.json
"$bin" ledger key --data log > log.vkey
"$bin" proof verify --proof receipt.tlog-proof --key log.vkey --envelope envelope.json --trusted-keys trust.json
"$bin" ledger verify --data log

# The same audit under CKKS encryption (node-seal's WebAssembly travels inside the binary).
"$bin" audit drift -i drift-input.json --key issuer.pem --key-id acme-1 --issuer "Acme Bank" --backend ckks -o envelope-ckks.json
"$bin" verify -i envelope-ckks.json --trusted-keys trust.json --strict > verdict-ckks.json
grep -q '"valid": true' verdict-ckks.json
grep -q '"backend": "seal-ckks"' envelope-ckks.json
"$bin" ledger append --data log -i envelope-ckks.json --trusted-keys trust.json > /dev/null
"$bin" ledger verify --data log

# Tampering: change the result; both checks must now fail with exit 1.
sed 's/"drift_bit": [a-z]*/"drift_bit": null/' envelope.json > tampered.json
set +e
"$bin" verify -i tampered.json --trusted-keys trust.json --strict > tampered-verdict.json
v=$?
"$bin" proof verify --proof receipt.tlog-proof --key log.vkey --envelope tampered.json > /dev/null
p=$?
set -e
[ "$v" -eq 1 ] && grep -q HashMismatch tampered-verdict.json
[ "$p" -eq 1 ]
echo "shell round trip: ok (tampered envelope: verify exit $v, proof verify exit $p)"
