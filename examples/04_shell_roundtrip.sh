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
# The key file names its issuer and key id: --key alone is enough.
"$bin" audit drift -i drift-input.json --key issuer.pem -o envelope.json
grep -q '"issuer": "Acme Bank"' envelope.json
"$bin" verify -i envelope.json --trusted-keys trust.json --strict > verdict.json
grep -q '"valid": true' verdict.json

"$bin" ledger append --data log -i envelope.json --trusted-keys trust.json --receipt receipt.tlog-proof > appended.json
"$bin" ledger key --data log > log.vkey
"$bin" proof verify --proof receipt.tlog-proof --key log.vkey --envelope envelope.json --trusted-keys trust.json
"$bin" ledger verify --data log

# Predictions kept as CSV: one column per vector, parameters as flags.
printf 'p,q\n120,100\n80,90\n40,45\n10,15\n' > drift-input.csv
"$bin" audit drift -i drift-input.csv --drift-threshold 0.005 --key issuer.pem -o envelope-csv.json
"$bin" ledger append --data log -i envelope-csv.json --trusted-keys trust.json > /dev/null
"$bin" ledger list --data log --issuer "Acme Bank" --primitive drift > listed.json
grep -q '"next_cursor": null' listed.json

# The same audit under CKKS encryption (node-seal's WebAssembly travels inside the binary).
"$bin" audit drift -i drift-input.json --key issuer.pem --backend ckks -o envelope-ckks.json
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
