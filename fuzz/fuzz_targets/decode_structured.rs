#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| xfcc_fuzz::decode_structured(data));
