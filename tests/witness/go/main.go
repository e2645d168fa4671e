// Command witnessinterop checks regledger's C2SP tlog-cosignature
// (cosignature/v1, Ed25519, type 0x04) cosignatures with Go, written from
// the spec text alone: Go's x/mod note package (v0.7.0) knows only Ed25519
// note signatures (type 0x01), so the cosignature message, key ID and
// signature layout are rebuilt here with crypto/ed25519 and crypto/sha256.
// It also opens the same notes with note.Open and the log's Ed25519 key, to
// show that cosignature (and ML-DSA-44) lines do not disturb Go's verifier.
//
// It reads one JSON request on stdin and writes one JSON response on stdout
// (see tests/witness/go_cosignature_test.ts).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type verifyCase struct {
	LogVkey     string `json:"log_vkey"`
	WitnessVkey string `json:"witness_vkey"`
	Note        string `json:"note"`
}

type verifyResult struct {
	LogErr     string `json:"log_err"`
	KeyErr     string `json:"key_err"`
	CosigErr   string `json:"cosig_err"`
	Timestamp  uint64 `json:"timestamp"`
	LogSigs    int    `json:"log_sigs"`
	UnknownSig int    `json:"unknown_sigs"`
}

type signCase struct {
	Name      string `json:"name"`
	Seed      string `json:"seed"`
	Timestamp uint64 `json:"timestamp"`
	Text      string `json:"text"`
}

type signResult struct {
	Vkey string `json:"vkey"`
	Line string `json:"line"`
}

type request struct {
	Verify []verifyCase `json:"verify"`
	Sign   []signCase   `json:"sign"`
}

type response struct {
	Verify []verifyResult `json:"verify"`
	Sign   []signResult   `json:"sign"`
}

const algCosignatureV1 = 0x04

// keyID is SHA-256(name || "\n" || type || key)[:4], big-endian.
func keyID(name string, typed []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write(typed)
	return binary.BigEndian.Uint32(h.Sum(nil)[:4])
}

func parseCosignerVkey(vkey string) (string, uint32, ed25519.PublicKey, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return "", 0, nil, errors.New("vkey: want name+hash+key")
	}
	name, hash, b64 := parts[0], parts[1], parts[2]
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", 0, nil, err
	}
	if len(key) != 33 || key[0] != algCosignatureV1 {
		return "", 0, nil, errors.New("vkey: not a 0x04 Ed25519 cosigner key")
	}
	id, err := strconv.ParseUint(hash, 16, 32)
	if err != nil || len(hash) != 8 {
		return "", 0, nil, errors.New("vkey: bad hash")
	}
	if uint32(id) != keyID(name, key) {
		return "", 0, nil, errors.New("vkey: key ID mismatch")
	}
	return name, uint32(id), ed25519.PublicKey(key[1:]), nil
}

// cosignatureMessage is the spec's signed message for cosignature/v1.
func cosignatureMessage(text string, ts uint64) []byte {
	return []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text))
}

func checkCosignature(c verifyCase) (uint64, error) {
	name, id, pub, err := parseCosignerVkey(c.WitnessVkey)
	if err != nil {
		return 0, err
	}
	i := strings.LastIndex(c.Note, "\n\n")
	if i < 0 {
		return 0, errors.New("note: no signature block")
	}
	text, sigs := c.Note[:i+1], c.Note[i+2:]
	for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
		if !strings.HasPrefix(line, "— ") {
			return 0, errors.New("note: bad signature line")
		}
		f := strings.SplitN(strings.TrimPrefix(line, "— "), " ", 2)
		if len(f) != 2 || f[0] != name {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil || len(raw) < 4 || binary.BigEndian.Uint32(raw[:4]) != id {
			continue
		}
		if len(raw) != 4+8+64 {
			return 0, errors.New("cosignature: wrong length")
		}
		ts := binary.BigEndian.Uint64(raw[4:12])
		if ts > 1<<63-1 {
			return 0, errors.New("cosignature: timestamp exceeds 2^63-1")
		}
		if !ed25519.Verify(pub, cosignatureMessage(text, ts), raw[12:]) {
			return ts, errors.New("cosignature: invalid signature")
		}
		return ts, nil
	}
	return 0, errors.New("cosignature: none by this witness")
}

func sign(c signCase) (signResult, error) {
	seed, err := base64.StdEncoding.DecodeString(c.Seed)
	if err != nil || len(seed) != 32 {
		return signResult{}, errors.New("bad seed")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	typed := append([]byte{algCosignatureV1}, pub...)
	id := keyID(c.Name, typed)
	vkey := fmt.Sprintf("%s+%08x+%s", c.Name, id, base64.StdEncoding.EncodeToString(typed))
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, id)
	binary.Write(&buf, binary.BigEndian, c.Timestamp)
	buf.Write(ed25519.Sign(priv, cosignatureMessage(c.Text, c.Timestamp)))
	line := fmt.Sprintf("— %s %s\n", c.Name, base64.StdEncoding.EncodeToString(buf.Bytes()))
	return signResult{Vkey: vkey, Line: line}, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var resp response
	for _, c := range req.Verify {
		var r verifyResult
		v, err := note.NewVerifier(c.LogVkey)
		if err != nil {
			r.LogErr = err.Error()
		} else if n, err := note.Open([]byte(c.Note), note.VerifierList(v)); err != nil {
			r.LogErr = err.Error()
		} else {
			r.LogSigs, r.UnknownSig = len(n.Sigs), len(n.UnverifiedSigs)
		}
		if _, _, _, err := parseCosignerVkey(c.WitnessVkey); err != nil {
			r.KeyErr = err.Error()
		}
		ts, err := checkCosignature(c)
		r.Timestamp = ts
		if err != nil {
			r.CosigErr = err.Error()
		}
		resp.Verify = append(resp.Verify, r)
	}
	for _, c := range req.Sign {
		r, err := sign(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		resp.Sign = append(resp.Sign, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
