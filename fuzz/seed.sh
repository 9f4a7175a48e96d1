#!/bin/sh
# Fills corpus/<target>/ with the seeds: the carrier fixtures the adapters' tests read, the
# tracking numbers the detection tests name, and the hand-made seeds in seeds/. Run from fuzz/;
# running it again only adds files. cargo fuzz adds what it finds to the same folders.
set -eu
cd "$(dirname "$0")"
fixtures=../crates/carriers/tests/fixtures
for pair in fedex:fedex ups:ups usps:usps dhl:dhl postnl:postnl canadapost:canada-post; do
    target=carrier_${pair%%:*}
    mkdir -p "corpus/$target"
    cp "$fixtures/${pair#*:}"/* "corpus/$target/"
done
# Every quoted literal of 8 to 40 characters in the detection crate: its test numbers.
mkdir -p corpus/detect_number corpus/detect_text
grep -ohE '"[A-Za-z0-9 -]{8,40}"' ../crates/detect/src/*.rs | sort -u | tr -d '"' |
    while IFS= read -r number; do
        printf '%s' "$number" > "corpus/detect_number/$(printf '%s' "$number" | cksum | cut -d' ' -f1)"
    done
cp corpus/detect_number/* corpus/detect_text/
for dir in seeds/*/; do
    target=$(basename "$dir")
    mkdir -p "corpus/$target"
    cp "$dir"* "corpus/$target/"
done
