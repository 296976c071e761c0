//! Core costs for an ACA-style Envoy header (RSA-2048 leaf plus chain):
//! parse, decode (with consistency checks), and SHA-256 over the leaf DER
//! as the floor every approach pays.
#![expect(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use xfcc::inspect::XfccHeader;
use xfcc_benches::{aca_header, capture, leaf_der};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (id, value) in [
        ("aca-rsa-chain", aca_header()),
        ("envoy-full-rsa-chain", capture("rsa-chain")),
        ("two-hop", capture("two-hop")),
        ("three-hop", xfcc_benches::three_hop()),
    ] {
        g.throughput(Throughput::Bytes(value.len() as u64));
        g.bench_function(id, |b| {
            b.iter(|| {
                let h = XfccHeader::parse(black_box(&value)).unwrap();
                black_box(h.element(h.len() - 1).unwrap().cert())
            });
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let value = aca_header();
    g.throughput(Throughput::Bytes(value.len() as u64));
    g.bench_function("aca-rsa-chain", |b| {
        b.iter(|| {
            let h = XfccHeader::parse(black_box(&value)).unwrap();
            black_box(h.element(0).unwrap().decode().unwrap())
        });
    });
    let cert_only = xfcc_benches::cert_only_header();
    g.bench_function("aca-rsa-cert-only", |b| {
        b.iter(|| {
            let h = XfccHeader::parse(black_box(&cert_only)).unwrap();
            black_box(h.element(0).unwrap().decode().unwrap())
        });
    });
    g.finish();
}

fn floor(c: &mut Criterion) {
    let der = leaf_der();
    let mut g = c.benchmark_group("floor");
    g.throughput(Throughput::Bytes(der.len() as u64));
    g.bench_function("sha256-leaf-der", |b| {
        b.iter(|| black_box(Sha256::digest(black_box(&der))))
    });
    // The same DER the ACA header carries: leaf plus its issuing CA.
    let mut both = der.clone();
    both.extend(xfcc_benches::der("inter"));
    g.throughput(Throughput::Bytes(both.len() as u64));
    g.bench_function("sha256-leaf-and-chain-der", |b| {
        b.iter(|| black_box(Sha256::digest(black_box(&both))))
    });
    g.finish();
}

/// The steps of an uncached verify, one by one: turning the `Cert` value
/// into DER, x509-cert's parse alone, and the whole identity extraction.
fn steps(c: &mut Criterion) {
    let header = aca_header();
    let h = XfccHeader::parse(&header).unwrap();
    let cert_value = h.element(0).unwrap().cert().unwrap().raw().to_owned();
    let der = leaf_der();
    let mut g = c.benchmark_group("steps");
    g.bench_function("cert-value-to-identity", |b| {
        b.iter(|| black_box(xfcc::inspect::decode_certificate(black_box(&cert_value)).unwrap()))
    });
    g.bench_function("identity-from-der", |b| {
        b.iter(|| black_box(xfcc::inspect::CertIdentity::from_der(black_box(der.clone())).unwrap()))
    });
    g.bench_function("x509-cert-parse", |b| {
        use x509_cert::der::Decode;
        b.iter(|| black_box(x509_cert::Certificate::from_der(black_box(&der)).unwrap()))
    });
    g.finish();
}

/// Parse-only, side by side with the `xfcc-parser` crate on the same
/// inputs: every element split into its fields. (xfcc-parser builds owned
/// element lists; ours borrows and walks them.)
fn compare(c: &mut Criterion) {
    let mut g = c.benchmark_group("compare");
    for (id, value) in [
        ("envoy-full-rsa-chain", capture("rsa-chain")),
        ("two-hop", capture("two-hop")),
        ("three-hop", xfcc_benches::three_hop()),
    ] {
        let ours = || {
            let h = XfccHeader::parse(&value).unwrap();
            let mut n = 0;
            for e in h.elements() {
                n += e.cert().map_or(0, |v| v.raw().len())
                    + e.by().count()
                    + e.uri().count()
                    + e.dns().count();
            }
            n
        };
        let theirs = || {
            let list = xfcc_parser::element_list(value.as_bytes()).unwrap();
            list.iter()
                .map(|e| {
                    e.cert.as_ref().map_or(0, |c| c.len()) + e.by.len() + e.uri.len() + e.dns.len()
                })
                .sum::<usize>()
        };
        assert_eq!(ours(), theirs(), "both parsers see the same header");
        g.throughput(Throughput::Bytes(value.len() as u64));
        g.bench_function(format!("xfcc/{id}"), |b| b.iter(|| black_box(ours())));
        g.bench_function(format!("xfcc-parser/{id}"), |b| {
            b.iter(|| black_box(theirs()))
        });
    }
    g.finish();
}

criterion_group!(benches, parse, decode, floor, steps, compare);
criterion_main!(benches);
