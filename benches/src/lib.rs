//! Benchmarks for the xfcc workspace (see `benches/`).
