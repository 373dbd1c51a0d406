//! Bencode (BEP 3): decoding with the raw byte span of every value, and canonical encoding.
//! STUB: to be written.
