/**
 * The help texts of `regledger ledger <command>`.
 *
 * @module
 */
/** The options every ledger command shares (where the log is). */
export const COMMON = `where the log is (one of):
  --data DIR     a local data directory (KV file DIR/ledger.kv, log key DIR/log-key
                 with mode 0600; the first \`append\` creates them, reads never do;
                 DIR/signed-head records the largest tree signed: a ledger.kv behind
                 or inconsistent with it is refused, see docs/deployment.md)
  --store URL    with --data: the log is in PostgreSQL (postgres://USER[:PASS]@HOST[:PORT]/DB;
                 PGPASSWORD when the URL has none) and DIR holds only its keys and
                 DIR/signed-head; reads never create the schema
  --origin NAME  with --data: checkpoint origin / log key name (default regledger.local/log)
  --server URL   a running regledger server (same output as --data)
  --token T      with --server: API token (default: the REGLEDGER_TOKEN environment variable)
  -h, --help     show help`;

/** Each command's help, by command name. */
export const HELPS: Record<string, string> = {
  append:
    `usage: regledger ledger append (--data DIR | --server URL) -i ENVELOPE [--trusted-keys FILE] [--receipt FILE]
                              [--wait witnessed]

Verify a signed envelope and append it to the log; print the receipt
{index, tree_size, leaf_hash, envelope_sha256, checkpoint, inclusion_proof,
tlog_proof, existing} (schema append-response). The same envelope again
prints its existing entry with "existing": true. With --trusted-keys the issuer must be in the trust
store; without it only the envelope's own hashes and signature are checked.
Against a server, the server's trust store decides (and --trusted-keys, when
given, is checked here first). A failed verification exits 1 with
{"error", "reason"} on stdout.

options:
  -i, --input FILE        the envelope JSON ("-" for stdin)
  --trusted-keys FILE     trust store JSON
  --receipt FILE          also write the tlog-proof@v1 receipt text to FILE
                          (for \`regledger proof verify --proof FILE\`)
  --wait witnessed        (--server only) answer once the server's witness quorum has
                          cosigned a checkpoint holding the entry: the receipt carries
                          that cosigned checkpoint (for \`proof verify --policy\`). When
                          the server gives up waiting (504), prints its
                          {error, reason: "NotWitnessed", receipt} and exits 1: the entry
                          IS appended; run the same command again later
  --new-log-under-existing-key
                          append although DIR/ledger.kv is behind or inconsistent
                          with DIR/signed-head: starts a NEW log under the existing
                          key (see docs/deployment.md); use once, deliberately
${COMMON}

examples:
  regledger ledger append --data ./data -i envelope.json --trusted-keys trust.json
  REGLEDGER_TOKEN=$(cat data/admin-token) \\
    regledger ledger append --server http://127.0.0.1:8080 -i envelope.json --receipt receipt.txt
  regledger ledger append --server http://127.0.0.1:8080 -i envelope.json --wait witnessed \\
    --receipt witnessed.txt
`,
  get: `usage: regledger ledger get (--data DIR | --server URL) --index N

Print entry N as {index, leaf, leaf_hash, envelope}; the envelope is its
canonical text exactly as stored (legacy numbers such as 1.0 kept).

options:
  --index N      the entry's index
${COMMON}

example:
  regledger ledger get --data ./data --index 0
`,
  checkpoint: `usage: regledger ledger checkpoint (--data DIR | --server URL)

Print the latest signed C2SP checkpoint (text).

${COMMON}

example:
  regledger ledger checkpoint --data ./data > checkpoint.txt
`,
  key: `usage: regledger ledger key (--data DIR | --server URL)

Print the log's verifier key in Go note format (name+keyid+base64 key).

${COMMON}

example:
  regledger ledger key --data ./data > log.vkey
`,
  proof: `usage: regledger ledger proof (--data DIR | --server URL) --index N [--tree-size M]

Print the RFC 6962 inclusion proof of entry N in the tree of size M
(default: the current size) as {index, tree_size, leaf_hash, proof}.

options:
  --index N       the entry's index
  --tree-size M   the tree size (N < M <= size)
${COMMON}

example:
  regledger ledger proof --data ./data --index 3 --tree-size 10
`,
  consistency: `usage: regledger ledger consistency (--data DIR | --server URL) --first A --second B

Print the RFC 6962 consistency proof between tree sizes A <= B as
{first, second, proof}.

options:
  --first A      the older tree size
  --second B     the newer tree size (<= size)
${COMMON}

example:
  regledger ledger consistency --data ./data --first 5 --second 10
`,
  list: `usage: regledger ledger list (--data DIR | --server URL) [--issuer NAME] [--primitive P]
       [--from T] [--to T] [--breached | --not-breached] [--limit N] [--cursor C] [--format F]

Print one page of entries, in (issued_at, index) order, as
{"entries": [{index, issued_at, issuer, primitive, key_id, envelope_sha256,
leaf_hash}], "next_cursor"}; next_cursor is null on the last page, else give
it to --cursor for the next one. On a terminal the page is a table instead.

options:
  --issuer NAME      only this issuer's entries
  --primitive P      only this primitive's entries
  --from T           issued at or after T (RFC 3339 date-time, or a date: its midnight UTC)
  --to T             issued before T
  --breached         only entries whose result breaches its threshold
  --not-breached     only entries whose result does not
  --limit N          page size, 1 to 1000 (default 100)
  --cursor C         the next_cursor of the previous page
  --format F         json (default when stdout is not a terminal) or table
${COMMON}

examples:
  regledger ledger list --data ./data --issuer "Acme Bank" --from 2026-01-01
  regledger ledger list --server http://127.0.0.1:8080 --primitive fairness --breached --format table
`,
  verify: `usage: regledger ledger verify (--data DIR | --server URL [--key VKEY])

Read the whole log back and recompute the hash chain, leaf and envelope
hashes, the Merkle tree, every stored checkpoint (signature and root), the
head and the indexes. Prints {ok, size} and exits 0, or exits 1 with
{ok: false, size, first_bad_index, reason}.

Against a server this is a client-side audit that trusts nothing the server
says: the latest checkpoint must be signed by the log key (pin it with
--key; without it the key the server publishes is used), and the log is read
through its C2SP tiles: the level-0 hash tiles are authenticated up to that
root, and every entry of the entry and envelope bundles is rehashed
(envelope, leaf, chain) and matched to its tile hash. About three requests
per 256 entries (bundles need a ledger:read token unless the server serves
them publicly); 429 answers are waited out as their Retry-After says.

options:
  --key FILE     with --server: the log's verifier key file (from \`ledger key\`)
${COMMON}

examples:
  regledger ledger verify --data ./data
  regledger ledger verify --server https://log.example --key log.vkey
`,
};

/** `regledger ledger --help`. */
export const HELP = `usage: regledger ledger <command> (--data DIR | --server URL) [options]

commands:
  append        verify an envelope and append it; print the receipt
  get           print an entry
  checkpoint    print the latest signed checkpoint
  key           print the log's verifier key
  list          list entries by issuer, primitive, time and breach, a page at a time
  proof         print an inclusion proof
  consistency   print a consistency proof
  verify        audit the whole log (exit 1 naming the first bad index)
  mirror        copy a server's log into a data directory from its tiles (resumable)

Run \`regledger ledger <command> --help\` for its options and an example.
`;
