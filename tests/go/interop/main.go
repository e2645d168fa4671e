// Command interop checks regledger's Merkle proofs and signed notes with Go's
// own golang.org/x/mod/sumdb/tlog and note, and produces Go-made trees, proofs
// and notes for regledger to check. It reads one JSON request on stdin and
// writes one JSON response on stdout (see tests/ledger/go_interop_test.ts).
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusionCase struct {
	Index    int64    `json:"index"`
	LeafHash string   `json:"leaf_hash"`
	Proof    []string `json:"proof"`
}

type consistencyCase struct {
	OldSize int64    `json:"old_size"`
	OldRoot string   `json:"old_root"`
	Proof   []string `json:"proof"`
}

// A signed checkpoint with proofs against it, all made by regledger.
type checkCase struct {
	Checkpoint  string            `json:"checkpoint"`
	Inclusion   []inclusionCase   `json:"inclusion"`
	Consistency []consistencyCase `json:"consistency"`
}

type caseResult struct {
	CheckpointErr  string   `json:"checkpoint_err"`
	Size           int64    `json:"size"`
	Root           string   `json:"root"`
	InclusionErr   []string `json:"inclusion_err"`
	ConsistencyErr []string `json:"consistency_err"`
}

type signReq struct {
	SignerKey string `json:"signer_key"`
	Text      string `json:"text"`
}

type request struct {
	VerifierKey string      `json:"verifier_key"`
	Check       []checkCase `json:"check"`
	Receipts    []string    `json:"receipts"`
	Sign        []signReq   `json:"sign"`
	Generate    struct {
		Seed  int64   `json:"seed"`
		Sizes []int64 `json:"sizes"`
	} `json:"generate"`
}

type goTree struct {
	Size        int64               `json:"size"`
	Leaves      []string            `json:"leaves"`
	Roots       map[string]string   `json:"roots"`
	Inclusion   map[string][]string `json:"inclusion"`   // "t/n" -> proof
	Consistency map[string][]string `json:"consistency"` // "t/n" -> proof
	Checkpoint  string              `json:"checkpoint"`
}

type response struct {
	Check    []caseResult `json:"check"`
	Receipts []string     `json:"receipts_err"`
	Signed   []string     `json:"signed"`
	SignErr  []string     `json:"sign_err"`
	Trees    []goTree     `json:"trees"`
	GoSkey   string       `json:"go_signer_key"`
	GoVkey   string       `json:"go_verifier_key"`
	GoSigned string       `json:"go_signed_note"`
}

type memReader []tlog.Hash

func (m *memReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("no hash at %d", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func hashes(p []tlog.Hash) []string {
	out := []string{}
	for _, h := range p {
		out = append(out, b64(h))
	}
	return out
}

func parseHashes(ss []string) ([]tlog.Hash, error) {
	var out []tlog.Hash
	for _, s := range ss {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// parseCheckpoint reads the C2SP tlog-checkpoint body: origin, size, root.
func parseCheckpoint(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", 0, root, fmt.Errorf("checkpoint has %d lines", len(lines))
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, fmt.Errorf("bad size line %q", lines[1])
	}
	root, err = tlog.ParseHash(lines[2])
	if err != nil {
		return "", 0, root, err
	}
	return lines[0], size, root, nil
}

// checkReceipt verifies a c2sp.org/tlog-proof@v1 text (extra data = the leaf
// bytes) with note.Open and tlog.CheckRecord, parsing it per the spec
// independently of regledger's parser.
func checkReceipt(text string, v note.Verifier) error {
	lines := strings.SplitAfter(text, "\n")
	i := 0
	next := func() (string, bool) {
		if i >= len(lines) || !strings.HasSuffix(lines[i], "\n") {
			return "", false
		}
		i++
		return strings.TrimSuffix(lines[i-1], "\n"), true
	}
	if l, ok := next(); !ok || l != "c2sp.org/tlog-proof@v1" {
		return fmt.Errorf("missing header")
	}
	l, ok := next()
	var extra []byte
	if ok && strings.HasPrefix(l, "extra ") {
		var err error
		extra, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(l, "extra "))
		if err != nil {
			return fmt.Errorf("bad extra: %v", err)
		}
		l, ok = next()
	} else {
		return fmt.Errorf("regledger receipts carry the leaf as extra data")
	}
	idxText := strings.TrimPrefix(l, "index ")
	index, err := strconv.ParseInt(idxText, 10, 64)
	if !ok || !strings.HasPrefix(l, "index ") || err != nil || strconv.FormatInt(index, 10) != idxText {
		return fmt.Errorf("bad index line %q", l)
	}
	var proof []tlog.Hash
	for {
		l, ok = next()
		if !ok {
			return fmt.Errorf("truncated proof")
		}
		if l == "" {
			break
		}
		h, err := tlog.ParseHash(l)
		if err != nil {
			return err
		}
		proof = append(proof, h)
	}
	n, err := note.Open([]byte(strings.Join(lines[i:], "")), note.VerifierList(v))
	if err != nil {
		return err
	}
	origin, size, root, err := parseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	if origin != v.Name() {
		return fmt.Errorf("origin %q is not the key name", origin)
	}
	return tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(extra))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	var resp response

	// (a) Check regledger's checkpoints and proofs with note.Open, tlog.CheckRecord, tlog.CheckTree.
	if req.VerifierKey != "" {
		v, err := note.NewVerifier(req.VerifierKey)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad verifier key:", err)
			os.Exit(2)
		}
		for _, c := range req.Check {
			var r caseResult
			n, err := note.Open([]byte(c.Checkpoint), note.VerifierList(v))
			if err != nil {
				r.CheckpointErr = err.Error()
				resp.Check = append(resp.Check, r)
				continue
			}
			origin, size, root, err := parseCheckpoint(n.Text)
			if err == nil && origin != v.Name() {
				err = fmt.Errorf("origin %q is not the key name", origin)
			}
			if err != nil {
				r.CheckpointErr = err.Error()
				resp.Check = append(resp.Check, r)
				continue
			}
			r.Size, r.Root = size, b64(root)
			for _, ic := range c.Inclusion {
				proof, err := parseHashes(ic.Proof)
				if err == nil {
					var lh tlog.Hash
					lh, err = tlog.ParseHash(ic.LeafHash)
					if err == nil {
						err = tlog.CheckRecord(proof, size, root, ic.Index, lh)
					}
				}
				r.InclusionErr = append(r.InclusionErr, errString(err))
			}
			for _, cc := range c.Consistency {
				proof, err := parseHashes(cc.Proof)
				if err == nil {
					var old tlog.Hash
					old, err = tlog.ParseHash(cc.OldRoot)
					if err == nil {
						err = tlog.CheckTree(proof, size, root, cc.OldSize, old)
					}
				}
				r.ConsistencyErr = append(r.ConsistencyErr, errString(err))
			}
			resp.Check = append(resp.Check, r)
		}
		for _, text := range req.Receipts {
			resp.Receipts = append(resp.Receipts, errString(checkReceipt(text, v)))
		}
	}

	// Sign texts with given signer keys (for byte-for-byte comparison).
	for _, s := range req.Sign {
		signer, err := note.NewSigner(s.SignerKey)
		var msg []byte
		if err == nil {
			msg, err = note.Sign(&note.Note{Text: s.Text}, signer)
		}
		resp.Signed = append(resp.Signed, string(msg))
		resp.SignErr = append(resp.SignErr, errString(err))
	}

	// (b) Go-made random trees, proofs and a Go-signed checkpoint.
	rng := rand.New(rand.NewSource(req.Generate.Seed))
	skey, vkey, err := note.GenerateKey(rng, "go.example/interop-log")
	if err != nil {
		panic(err)
	}
	resp.GoSkey, resp.GoVkey = skey, vkey
	signer, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	msg, err := note.Sign(&note.Note{Text: "Go signed this note.\nSecond line, ünïcödé.\n"}, signer)
	if err != nil {
		panic(err)
	}
	resp.GoSigned = string(msg)
	for _, size := range req.Generate.Sizes {
		t := goTree{
			Size:        size,
			Roots:       map[string]string{},
			Inclusion:   map[string][]string{},
			Consistency: map[string][]string{},
		}
		var store memReader
		for i := int64(0); i < size; i++ {
			leaf := make([]byte, rng.Intn(40))
			rng.Read(leaf)
			t.Leaves = append(t.Leaves, base64.StdEncoding.EncodeToString(leaf))
			hs, err := tlog.StoredHashes(i, leaf, &store)
			if err != nil {
				panic(err)
			}
			store = append(store, hs...)
		}
		if int64(len(store)) != tlog.StoredHashCount(size) {
			panic("stored hash count")
		}
		// Roots of a few prefixes, inclusion and consistency proofs at random points.
		for k := 0; k < 6; k++ {
			tt := 1 + rng.Int63n(size)
			th, err := tlog.TreeHash(tt, &store)
			if err != nil {
				panic(err)
			}
			t.Roots[strconv.FormatInt(tt, 10)] = b64(th)
			n := rng.Int63n(tt)
			rp, err := tlog.ProveRecord(tt, n, &store)
			if err != nil {
				panic(err)
			}
			t.Inclusion[fmt.Sprintf("%d/%d", tt, n)] = hashes(rp)
			m := 1 + rng.Int63n(tt)
			tp, err := tlog.ProveTree(tt, m, &store)
			if err != nil {
				panic(err)
			}
			mh, err := tlog.TreeHash(m, &store)
			if err != nil {
				panic(err)
			}
			t.Roots[strconv.FormatInt(m, 10)] = b64(mh)
			t.Consistency[fmt.Sprintf("%d/%d", tt, m)] = hashes(tp)
		}
		full, err := tlog.TreeHash(size, &store)
		if err != nil {
			panic(err)
		}
		t.Roots[strconv.FormatInt(size, 10)] = b64(full)
		body := fmt.Sprintf("go.example/interop-log\n%d\n%s\n", size, b64(full))
		cp, err := note.Sign(&note.Note{Text: body}, signer)
		if err != nil {
			panic(err)
		}
		t.Checkpoint = string(cp)
		resp.Trees = append(resp.Trees, t)
	}

	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(resp); err != nil {
		panic(err)
	}
}
