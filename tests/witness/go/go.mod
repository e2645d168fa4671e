module regledger.test/witnessinterop

go 1.19

require golang.org/x/mod v0.7.0

// Built offline against Debian's golang-golang-x-mod-dev source.
replace golang.org/x/mod => /usr/share/gocode/src/golang.org/x/mod
