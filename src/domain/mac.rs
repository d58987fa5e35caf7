//! Keyed hashes and secret comparison, each made in one place. An HMAC is built from a key of any
//! length with no error to handle, and every comparison of a secret (a signature, a token, a MAC
//! tag) goes through `subtle`, whose time does not depend on where two values first differ.
use hmac::Hmac;
use hmac::digest::{Digest, Key, KeyInit};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// HMAC-SHA256 keyed with `key`; feed it with `Mac::update`.
pub fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    let mut block = Key::<Hmac<Sha256>>::default();
    pad_key::<Sha256>(key, &mut block);
    <Hmac<Sha256> as KeyInit>::new(&block)
}

/// HMAC-SHA1 keyed with `key` (only Alibaba Cloud's legacy RPC signature still asks for it).
pub fn hmac_sha1(key: &[u8]) -> Hmac<Sha1> {
    let mut block = Key::<Hmac<Sha1>>::default();
    pad_key::<Sha1>(key, &mut block);
    <Hmac<Sha1> as KeyInit>::new(&block)
}

/// HMAC accepts keys of any length (RFC 2104 §2): a key longer than the hash's block is hashed
/// first, and either way it is padded with zeros to the block. We build that block ourselves, so
/// the fixed-size constructor applies and there is no "invalid length" to handle or `expect` away;
/// the MAC is the one `Mac::new_from_slice` gives (see the test).
fn pad_key<D: Digest>(key: &[u8], block: &mut [u8]) {
    if key.len() <= block.len() {
        block[..key.len()].copy_from_slice(key);
    } else {
        let hashed = D::digest(key);
        let n = hashed.len().min(block.len());
        block[..n].copy_from_slice(&hashed[..n]);
    }
}

/// Whether two secrets are equal, compared in constant time. Values of different lengths are
/// unequal (a length is not the secret).
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    #[test]
    fn the_hmac_is_the_one_new_from_slice_gives_for_every_key_length() {
        for len in [0, 1, 20, 32, 63, 64, 65, 100, 200] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut ours = hmac_sha256(&key);
            let mut theirs = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"message");
            theirs.update(b"message");
            assert_eq!(ours.finalize().into_bytes(), theirs.finalize().into_bytes(), "SHA-256, key of {len} bytes");
            let mut ours = hmac_sha1(&key);
            let mut theirs = <Hmac<Sha1> as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"message");
            theirs.update(b"message");
            assert_eq!(ours.finalize().into_bytes(), theirs.finalize().into_bytes(), "SHA-1, key of {len} bytes");
        }
    }

    #[test]
    fn rfc_4231_test_case_2() {
        let mut m = hmac_sha256(b"Jefe");
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn equal_compares_content_and_length() {
        assert!(equal(b"abc", b"abc"));
        assert!(!equal(b"abc", b"abd"));
        assert!(!equal(b"abc", b"abcd"));
        assert!(equal(b"", b""));
    }
}
