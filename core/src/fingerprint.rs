//! Fingerprints: 64-bit FNV-1a hashes, for telling entries and logs apart.
//!
//! The safety checkers compare what nodes hold without comparing it byte by byte: an applied
//! entry by its fingerprint, a whole log up to an index by a chain of them (each link the
//! fingerprint of the previous link and the entry). Nothing here is adversarial (the nodes do
//! not try to fool the checker), so a cryptographic hash buys nothing: two different inputs
//! share a fingerprint with odds of about one in 2^64. SHA-256 did this job before, and was
//! a fifth of the simulator's work in the browser, where no CPU instruction helps it.
//!
//! FNV-1a ("Fowler–Noll–Vo"): for each byte, xor it in, then multiply by a prime. The same
//! bytes give the same fingerprint on every platform, which the determinism test relies on.

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// A fingerprint being computed: feed it bytes, then [`Fingerprint::finish`].
#[derive(Clone, Copy, Debug)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(OFFSET_BASIS)
    }
}

impl Fingerprint {
    pub fn update(mut self, bytes: &[u8]) -> Fingerprint {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(PRIME);
        }
        self
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// The fingerprint of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    Fingerprint::default().update(bytes).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_fnv_1a() {
        // Published test vectors of 64-bit FNV-1a.
        assert_eq!(fingerprint(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fingerprint(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn feeding_in_parts_is_feeding_at_once() {
        let parts = Fingerprint::default()
            .update(b"foo")
            .update(b"bar")
            .finish();
        assert_eq!(parts, fingerprint(b"foobar"));
    }
}
