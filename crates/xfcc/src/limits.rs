//! [`Limits`]: the size bounds every reader applies (header, elements,
//! pairs, chain, extensions, name attributes). Its own module, below the
//! readers and the errors, so that none of them imports another to know a
//! bound.

/// Size limits applied while parsing. Each has its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_bytes: usize,
    max_elements: usize,
    max_pairs: usize,
    max_chain: usize,
    max_extensions: usize,
    max_name_attributes: usize,
}

impl Limits {
    /// 64 KiB, 32 elements, 64 pairs per element, 16 certificates per
    /// chain, 64 extensions per certificate, 64 attributes per name.
    pub const DEFAULT: Self = Self {
        max_bytes: 64 * 1024,
        max_elements: 32,
        max_pairs: 64,
        max_chain: 16,
        max_extensions: 64,
        max_name_attributes: 64,
    };

    /// Longest header value accepted, in bytes. Default 65 536.
    #[must_use]
    pub const fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// Most elements (proxy hops) accepted. Default 32.
    #[must_use]
    pub const fn max_elements(mut self, n: usize) -> Self {
        self.max_elements = n;
        self
    }

    /// Most pairs accepted in one element. Default 64.
    #[must_use]
    pub const fn max_pairs(mut self, n: usize) -> Self {
        self.max_pairs = n;
        self
    }

    /// Most certificates accepted in one `Chain`. Default 16.
    #[must_use]
    pub const fn max_chain(mut self, n: usize) -> Self {
        self.max_chain = n;
        self
    }

    /// Most extensions accepted in one certificate (a certificate with
    /// more is `bad_der`, [`DerErrorKind::TooManyExtensions`](crate::error::DerErrorKind::TooManyExtensions)).
    /// Default 64; real certificates carry about ten.
    #[must_use]
    pub const fn max_extensions(mut self, n: usize) -> Self {
        self.max_extensions = n;
        self
    }

    /// Most attributes accepted in one name (issuer, subject, or a
    /// directoryName SAN); more is `bad_der`,
    /// [`DerErrorKind::TooManyNameAttributes`](crate::error::DerErrorKind::TooManyNameAttributes).
    /// Default 64; real names carry fewer than fifteen.
    #[must_use]
    pub const fn max_name_attributes(mut self, n: usize) -> Self {
        self.max_name_attributes = n;
        self
    }

    /// The extensions-per-certificate limit.
    pub const fn extensions(&self) -> usize {
        self.max_extensions
    }

    /// The attributes-per-name limit.
    pub const fn name_attributes(&self) -> usize {
        self.max_name_attributes
    }

    /// The byte limit.
    pub const fn bytes(&self) -> usize {
        self.max_bytes
    }

    /// The element limit.
    pub const fn elements(&self) -> usize {
        self.max_elements
    }

    /// The pairs-per-element limit.
    pub const fn pairs(&self) -> usize {
        self.max_pairs
    }

    /// The chain-length limit.
    pub const fn chain(&self) -> usize {
        self.max_chain
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
