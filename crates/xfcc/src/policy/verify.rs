//! Verifying a request: the reading its peer selects, the header read
//! through it, each element checked, the trusted one decided by the rules
//! (through the reading's cache).

use std::sync::Arc;
use std::time::SystemTime;

use super::cache::{Cache, CachedCert, KeyRef};
use super::reading::Reading;
use super::{ElementCount, Mode, Policy, Sourced, name_hint};
use crate::error::{CertErrorKind, Error, Field};
use crate::format::Format;
use crate::forwarded::ForwardedCert;
use crate::metrics;
use crate::outcome::{
    ChainError, ChainFacts, ClientCert, Detail, Explanation, Hint, IdentityFrom, ProxyFields,
    Reason, Rejection, RuleMiss,
};
use crate::parse::{Element, XfccHeader};
use crate::peer::{Hop, Peer};

impl Policy {
    pub(crate) fn now(&self) -> SystemTime {
        self.decision()
            .clock
            .as_ref()
            .map_or_else(SystemTime::now, |c| c())
    }

    /// Verifies one header value against the policy at the policy's clock.
    ///
    /// # Errors
    /// A [`Rejection`] with its [`Reason`].
    pub fn verify(&self, value: &str) -> Result<ClientCert, Rejection> {
        self.verify_at(value, self.now())
    }

    /// As [`verify`](Self::verify), at the given time. The value is read
    /// through the policy's reading; with several `[[sources]]`, which
    /// applies depends on the peer, so it is `peer_unavailable` (use
    /// [`verify_request`](Self::verify_request), or
    /// [`for_source`](Self::for_source)).
    ///
    /// # Errors
    /// A [`Rejection`] with its [`Reason`].
    pub fn verify_at(&self, value: &str, now: SystemTime) -> Result<ClientCert, Rejection> {
        let start = metrics::start();
        let (result, source) = match self.inner.readings.as_slice() {
            [r] => (
                self.verify_inner(r, value, None, now, None),
                r.source.as_ref(),
            ),
            // Which proxy's reading applies depends on the peer.
            _ => (
                Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer)),
                None,
            ),
        };
        let result = self.mark(source, result);
        metrics::verification(start, result.as_ref().map(Some));
        result
    }

    /// Every line of the policy's header as received (none, one, or more),
    /// for a caller that has only that header: no line applies the mode
    /// (`Ok(None)` in [`Mode::Accept`], `missing` in [`Mode::Require`]);
    /// more than one line is rejected as `multiple_headers` (RFC 9110 would
    /// join them with `, `, which reads as extra elements); a value that is
    /// not UTF-8 is `malformed`. With `trusted_peers` or `trusted_proxies`
    /// set it is always `peer_unavailable`: use
    /// [`verify_request`](Self::verify_request) with the peer.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_header_values<'v, I>(&self, values: I) -> Result<Option<ClientCert>, Rejection>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        let start = metrics::start();
        let (result, source) = match self.inner.readings.as_slice() {
            [r] if !self.has_trusted_peers() && !self.has_trusted_proxies() => {
                (self.verify_lines(r, values, None, None), r.source.as_ref())
            }
            // The peer is unknown here: never honour the header.
            _ => (
                Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer)),
                None,
            ),
        };
        let result = self.mark(source, result);
        metrics::verification(start, result.as_ref().map(Option::as_ref));
        result
    }

    /// One certificate header value as received (or none), from `peer`:
    /// read as the certificate header of the reading that applies (with
    /// `[[sources]]`, the peer's), never as a chain header. For a caller
    /// that holds the value but not the request's headers (the Python
    /// package's `Policy.verify`). Without a peer it is
    /// [`verify_header_values`](Self::verify_header_values).
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_value(
        &self,
        peer: impl Into<Peer>,
        value: Option<&[u8]>,
    ) -> Result<Option<ClientCert>, Rejection> {
        let peer = peer.into();
        if peer.addr().is_none() && peer.tls().is_none() {
            return self.verify_header_values(value);
        }
        self.verify_from(&peer, |name| {
            value.filter(|_| self.readings().any(|r| r.header_name == name))
        })
    }

    /// What the HTTP adapters call for each request: `lines(name)` gives
    /// every field line of the header `name` (lower-case) as received. Reads
    /// the header through the policy's reading (with `[[sources]]`, the one
    /// the peer belongs to: [`Reading::header_name`]) as
    /// [`verify_header_values`](Self::verify_header_values) does and, for a
    /// format with a separate chain header (RFC 9440 `client-cert-chain`),
    /// that one too, so chain rules see the intermediates. Several chain
    /// lines are one list (RFC 9110 5.3); together they must fit the
    /// policy's byte limit, and each must be UTF-8.
    ///
    /// `peer` is the connection (a [`Peer`], or an `IpAddr` or
    /// `Option<IpAddr>`), for `trusted_peers`, `trusted_proxies` and
    /// `[[sources]]`. With addresses listed, an unknown address is
    /// `peer_unavailable` (a wiring error, never allowed) and a peer
    /// outside the list (in no source) that sent the header is
    /// `untrusted_peer`. With certificates listed, a connection the
    /// adapter cannot see into is `peer_unavailable`, and one that
    /// presented no certificate, or one no entry matches, and sent the
    /// header is `untrusted_proxy`. Without either, `peer` is not read.
    ///
    /// Because the names come from the policy at each call, an adapter
    /// built on a [`PolicyHandle`](crate::PolicyHandle) follows a reload that changes them.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_request<'v, F, I>(
        &self,
        peer: impl Into<Peer>,
        lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        self.verify_from(&peer.into(), lines)
    }

    pub(crate) fn verify_from<'v, F, I>(
        &self,
        peer: &Peer,
        lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        match self.inner.readings.as_slice() {
            [r] if !self.inner.by_source => {
                let start = metrics::start();
                let result = self.read_request(r, peer, None, lines);
                let result = self.mark(r.source.as_ref(), result);
                metrics::verification(start, result.as_ref().map(Option::as_ref));
                result
            }
            _ => self.verify_by_source(peer, lines),
        }
    }

    /// A request read through the reading `r`: its peer checked against
    /// the reading's `trusted_peers` and `trusted_proxies` (unless the
    /// caller judged the hop already: `judged`), then its header (and
    /// chain header). Neither marked nor counted: the caller does both.
    fn read_request<'v, F, I>(
        &self,
        r: &Reading,
        peer: &Peer,
        judged: Option<Option<Arc<Hop>>>,
        mut lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        if r.has_trusted_peers() {
            match peer.addr() {
                None => {
                    return Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer));
                }
                Some(ip) if r.trusts(ip.to_canonical()) == Some(false) => {
                    let sent = Self::header_sent(r, &mut lines);
                    return self.untrusted_peer(ip, sent);
                }
                Some(_) => {}
            }
        }
        let hop = match judged {
            Some(hop) => hop,
            None => match self.hop(r, peer, self.now()) {
                Ok(hop) => hop,
                Err(e) if e.reason() == Reason::PeerUnavailable => return Err(e),
                Err(e) => {
                    return if Self::header_sent(r, &mut lines) {
                        Err(e)
                    } else {
                        self.on_missing()
                    };
                }
            },
        };
        let via = hop.as_deref();
        let result = match r.format.chain_header_name() {
            Some(name) => self.chain_lines(lines(name)).and_then(|chain| {
                self.verify_lines(r, lines(&r.header_name), chain.as_deref(), via)
            }),
            None => self.verify_lines(r, lines(&r.header_name), None, via),
        };
        match hop {
            Some(hop) => result.map(|c| c.map(|c| c.with_proxy(Arc::clone(&hop.proxy)))),
            None => result,
        }
    }

    /// With `[[sources]]`: the first source whose addresses (if it lists
    /// any) hold the peer and whose `trusted_proxies` (if any) match its
    /// certificate judges the request. A peer in none that sends any
    /// source's header is `untrusted_peer` or, when a source's addresses
    /// held it but its certificate did not match, `untrusted_proxy`; one
    /// that sends none gets the mode's answer.
    fn verify_by_source<'v, F, I>(
        &self,
        peer: &Peer,
        mut lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let start = metrics::start();
        let ip = peer.addr().map(|ip| ip.to_canonical());
        let now = self.now();
        let mut refused: Option<Rejection> = None;
        let mut chosen = None;
        for r in &self.inner.readings {
            let addr_ok = match (r.trusted_peers.is_some(), ip) {
                (false, _) => true,
                (true, Some(ip)) => r.trusts(ip) == Some(true),
                (true, None) => false,
            };
            if !addr_ok {
                continue;
            }
            match self.hop(r, peer, now) {
                Ok(hop) => {
                    chosen = Some((r, hop));
                    break;
                }
                Err(e) => {
                    // A wiring error outranks a proxy's refusal.
                    let wiring = e.reason() == Reason::PeerUnavailable;
                    if refused
                        .as_ref()
                        .is_none_or(|old| wiring && old.reason() != Reason::PeerUnavailable)
                    {
                        refused = Some(match &r.source {
                            Some(name) => e.sourced_by(name),
                            None => e,
                        });
                    }
                }
            }
        }
        let result = match (chosen, refused) {
            (Some((r, hop)), _) => {
                let result = self.read_request(r, peer, Some(hop), lines);
                self.mark(r.source.as_ref(), result)
            }
            (None, Some(e)) if e.reason() == Reason::PeerUnavailable => self.mark(None, Err(e)),
            (None, _) if ip.is_none() && self.readings().any(Reading::has_trusted_peers) => self
                .mark(
                    None,
                    Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer)),
                ),
            (None, refusal) => {
                let sent = self
                    .inner
                    .readings
                    .iter()
                    .any(|r| Self::header_sent(r, &mut lines));
                let result =
                    match (refusal, ip) {
                        (Some(e), _) if sent => Err(e),
                        (_, Some(ip)) => self.untrusted_peer(ip, sent),
                        (_, None) if sent => Err(Rejection::of(Reason::UntrustedProxy)
                            .with_hint(Hint::UntrustedProxyCert)),
                        (_, None) => self.on_missing(),
                    };
                self.mark(None, result)
            }
        };
        metrics::verification(start, result.as_ref().map(Option::as_ref));
        result
    }

    /// Whether the request has a line of the reading's header, or of its
    /// chain header.
    fn header_sent<'v, F, I>(r: &Reading, lines: &mut F) -> bool
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let mut sent = |name: &str| lines(name).into_iter().next().is_some();
        r.format.chain_header_name().is_some_and(&mut sent) || sent(&r.header_name)
    }

    /// A peer the header may not come from: `untrusted_peer` when it sent
    /// the header, else what the mode says of a request without one.
    fn untrusted_peer(
        &self,
        ip: std::net::IpAddr,
        sent: bool,
    ) -> Result<Option<ClientCert>, Rejection> {
        if sent {
            Err(Rejection::of(Reason::UntrustedPeer)
                .with_peer(ip)
                .with_hint(Hint::UntrustedPeer))
        } else {
            self.on_missing()
        }
    }

    /// In report mode, marks a refusal as one that only reports; read
    /// through a source, names the source on the refusal and on the
    /// certificate.
    fn mark<T: Sourced>(
        &self,
        source: Option<&Arc<str>>,
        result: Result<T, Rejection>,
    ) -> Result<T, Rejection> {
        let result = match source {
            Some(name) => result
                .map(|t| t.sourced_by(name))
                .map_err(|r| r.sourced_by(name)),
            None => result,
        };
        match self.decision().mode {
            Mode::Report => result.map_err(Rejection::reported),
            Mode::Require | Mode::Accept => result,
        }
    }

    /// Whether `trusted_peers` lets a request from `peer` carry the header
    /// (always true when it is not set); with `[[sources]]`, whether `peer`
    /// belongs to one.
    pub fn is_trusted_peer(&self, peer: std::net::IpAddr) -> bool {
        let ip = peer.to_canonical();
        if self.inner.by_source {
            return self.readings().any(|r| r.trusts(ip) == Some(true));
        }
        self.readings().all(|r| r.trusts(ip) != Some(false))
    }

    /// The chain header's lines joined as one list, `None` when absent.
    fn chain_lines<'v>(
        &self,
        lines: impl IntoIterator<Item = &'v [u8]>,
    ) -> Result<Option<String>, Rejection> {
        let max = self.decision().options.limits().bytes();
        let mut joined: Option<String> = None;
        for line in lines {
            let text = std::str::from_utf8(line).map_err(|e| {
                Rejection::from(Error::from(crate::error::ParseError::new(
                    crate::error::ParseErrorKind::InvalidUtf8,
                    e.valid_up_to(),
                )))
            })?;
            let out = joined.get_or_insert_with(String::new);
            if !out.is_empty() {
                out.push_str(", ");
            }
            if out.len() + text.len() > max {
                return Err(Error::from(crate::error::ParseError::new(
                    crate::error::ParseErrorKind::TooLong,
                    max,
                ))
                .into());
            }
            out.push_str(text);
        }
        Ok(joined)
    }

    fn verify_lines<'v, I>(
        &self,
        r: &Reading,
        values: I,
        chain: Option<&str>,
        hop: Option<&Hop>,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        let mut values = values.into_iter();
        let Some(first) = values.next() else {
            return self.on_missing();
        };
        if values.next().is_some() {
            return Err(Rejection::of(Reason::MultipleHeaders));
        }
        let text = std::str::from_utf8(first).map_err(|e| {
            Rejection::from(Error::from(crate::error::ParseError::new(
                crate::error::ParseErrorKind::InvalidUtf8,
                e.valid_up_to(),
            )))
        })?;
        if r.format.means_no_certificate(text) {
            // HAProxy and Caddy set the header from a variable that is
            // empty (or, for Caddy, unreplaced) without a client certificate.
            return self.on_missing();
        }
        self.verify_inner(r, text, chain, self.now(), hop).map(Some)
    }

    fn on_missing(&self) -> Result<Option<ClientCert>, Rejection> {
        match self.decision().mode {
            Mode::Accept => Ok(None),
            Mode::Require | Mode::Report => Err(Rejection::of(Reason::Missing)),
        }
    }

    /// `hop`: the proxy the connection's certificate showed, whose URI
    /// SANs the trusted element's `By` must hold (`by_is_proxy`).
    fn verify_inner(
        &self,
        r: &Reading,
        value: &str,
        chain: Option<&str>,
        now: SystemTime,
        hop: Option<&Hop>,
    ) -> Result<ClientCert, Rejection> {
        let p = self.decision();
        if r.format != Format::Envoy {
            if r.format.means_no_certificate(value) {
                return Err(Rejection::of(Reason::Missing));
            }
            if value.len() > p.options.limits().bytes() {
                return Err(Error::from(crate::error::ParseError::new(
                    crate::error::ParseErrorKind::TooLong,
                    p.options.limits().bytes(),
                ))
                .into());
            }
            // One certificate (and chain) per value: the cache is keyed
            // by the exact texts, and stores only what is allowed.
            let key = KeyRef::new(value, chain.unwrap_or(""), None);
            let (cached, hit) = match Self::cache_get(r, &key) {
                Some((cached, _)) => (cached, true),
                None => {
                    let fc = r
                        .format
                        .decode(value, chain, p.options.limits())
                        .map_err(|e| name_hint(Rejection::from(e), value))?;
                    (Arc::new(CachedCert::new(fc)), false)
                }
            };
            let allowed = self.finish(r, &cached, 0, now)?;
            if let (false, Some(cache)) = (hit, &r.cache) {
                cache.insert(&key, cached, 0);
            }
            return Ok(allowed);
        }

        // An allowed header seen before, byte for byte: it parses and checks
        // as it did, so only what depends on the clock is done again.
        // (Counted as a lookup only when it hits: a miss goes on to the
        // elements' lookups, which count.)
        // The element's `By` against the connection's certificate: a header
        // allowed over one proxy's connection says nothing of another's, so
        // such a header is read again (its certificates still come from the
        // cache).
        let by_hop = hop.filter(|_| r.by_is_proxy());
        let whole = KeyRef::header(value);
        if let Some((cached, index)) = r
            .cache
            .as_ref()
            .filter(|_| by_hop.is_none())
            .and_then(|c| c.get(&whole))
        {
            metrics::cache_lookup(true);
            return self.finish(r, &cached, index, now);
        }
        let header = XfccHeader::parse_with(value, &p.options).map_err(|e| {
            let r = Rejection::from(Error::from(e));
            if crate::parse::is_json_form(value, p.options.syntax()) {
                r.with_hint(Hint::JsonForm)
            } else {
                name_hint(r, value)
            }
        })?;
        let n = header.len();
        if let ElementCount::Exactly(expected) = r.count {
            let counts = Hint::Elements { seen: n, expected };
            if n > expected {
                return Err(Rejection::of(Reason::TooManyElements).with_hint(counts));
            }
            if n < expected {
                return Err(Rejection::of(Reason::TooFewElements).with_hint(counts));
            }
        }
        let trusted = if r.trust >= 0 {
            usize::try_from(r.trust).ok().filter(|&i| i < n)
        } else {
            n.checked_sub(usize::try_from(r.trust.unsigned_abs()).unwrap_or(usize::MAX))
        }
        .ok_or_else(|| Rejection::of(Reason::TooFewElements))?;

        // The trusted proxy writes one element per request. Its `By` in two
        // elements means a client's SAN (which Envoy writes unescaped)
        // split an element and forged the second half.
        if let Some(by) = &r.by
            && n > 1
            && header
                .elements()
                .filter(|e| e.by().any(|b| b.text() == by.as_str()))
                .nth(1)
                .is_some()
        {
            return Err(Rejection::new(Reason::UntrustedProxy, Detail::RepeatedBy));
        }
        let mut chosen = None;
        let mut fields = None;
        // Decoded certificates are stored only once the whole header is
        // allowed: what the policy rejects never occupies the cache.
        let mut fresh: Vec<(KeyRef<'_>, Arc<CachedCert>)> = Vec::new();
        for element in header.elements() {
            let index = element.index();
            if index == trusted {
                if let Some(by) = &r.by
                    && !element.by().any(|b| b.text() == by.as_str())
                {
                    return Err(Rejection::of(Reason::UntrustedProxy).at_element(index));
                }
                if let Some(hop) = by_hop
                    && !element
                        .by()
                        .any(|b| hop.uris.iter().any(|u| u.as_str() == b.text()))
                {
                    return Err(Rejection::new(
                        Reason::UntrustedProxy,
                        Detail::Proxy(crate::outcome::ProxyProblem::ByNotProxy),
                    )
                    .at_element(index)
                    .with_hint(Hint::ByNotProxy));
                }
                if r.identity_from == IdentityFrom::ProxyFields
                    && element.cert().is_none()
                    && element.chain().is_none()
                {
                    fields = Some(ProxyFields::read(&element)?);
                    continue;
                }
                let cached = self.decode(r, &element, &mut fresh)?.ok_or_else(|| {
                    let e = Rejection::from(
                        Error::cert(CertErrorKind::NoCertificate, Field::Cert).with_element(index),
                    );
                    // What a mesh that forwards no certificate sends.
                    let fields = element.hash().is_some()
                        || element.uri().next().is_some()
                        || element.subject().is_some();
                    if fields && r.format == Format::Envoy {
                        e.with_hint(Hint::FieldsWithoutCert)
                    } else {
                        e
                    }
                })?;
                chosen = Some(cached);
            } else {
                // Untrusted elements must still agree with their own
                // certificates: this is what exposes a SAN that smuggled
                // delimiters into the header.
                self.decode(r, &element, &mut fresh)?;
            }
        }
        if let Some(fields) = fields {
            // Other elements' certificates were checked, but the trusted
            // one has none: nothing for the cache.
            return self.finish_fields(fields, trusted, now);
        }
        let cached = chosen.ok_or_else(|| Rejection::of(Reason::TooFewElements))?;
        let allowed = self.finish(r, &cached, trusted, now)?;
        if let Some(cache) = &r.cache {
            // A one-element header needs no element entry beside its own.
            if n > 1 {
                for (key, entry) in fresh {
                    cache.insert(&key, entry, 0);
                }
            }
            cache.insert(&whole, cached, trusted);
        }
        Ok(allowed)
    }

    /// Decodes an element's certificate (through the cache) and checks the
    /// element's fields against it.
    fn decode<'h>(
        &self,
        r: &Reading,
        element: &Element<'h>,
        fresh: &mut Vec<(KeyRef<'h>, Arc<CachedCert>)>,
    ) -> Result<Option<Arc<CachedCert>>, Rejection> {
        let p = self.decision();
        let Some(cert_raw) = element.cert().or(element.chain()) else {
            return Ok(None);
        };
        let chain_raw = element.chain().map_or("", |v| v.raw());
        let key = KeyRef::new(cert_raw.raw(), chain_raw, element.hash().map(|h| h.raw()))
            .json(element.is_json());
        let (cached, hit) = match Self::cache_get(r, &key) {
            Some((hit, _)) => (hit, true),
            None => {
                let Some(fc) = element.decode_unchecked(p.options.limits())? else {
                    return Ok(None);
                };
                (Arc::new(CachedCert::new(fc)), false)
            }
        };
        let (fc, leaf) = (cached.cert(), cached.cert().leaf());
        // What the cache has established is not checked again: a hit's key
        // holds the Hash text (checked when it was stored), and a Subject
        // text seen with this certificate before is remembered.
        let subject_known = element.subject().map(|s| s.raw()) == cached.known_subject();
        let [uri, dns] = element.san_inconsistencies(leaf);
        let problem = [
            (!hit).then(|| element.hash_inconsistency(leaf)).flatten(),
            element.chain_inconsistency(fc),
            (!subject_known)
                .then(|| element.subject_inconsistency(leaf))
                .flatten(),
            uri,
            dns,
            element.issuer_inconsistency(leaf),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some(problem) = problem {
            let r = Rejection::from(Error::inconsistent(problem).with_element(element.index()));
            return Err(r.explained(Explanation::about(leaf.clone())));
        }
        if let Some(subject) = element.subject() {
            cached.remember_subject(subject.raw());
        }
        // Only what agrees with its own Hash is stored (see `cache::Key`),
        // and only once the header is allowed (the caller stores it).
        if !hit && r.cache.is_some() {
            fresh.push((key, Arc::clone(&cached)));
        }
        Ok(Some(cached))
    }

    fn finish(
        &self,
        r: &Reading,
        cached: &Arc<CachedCert>,
        index: usize,
        now: SystemTime,
    ) -> Result<ClientCert, Rejection> {
        let p = self.decision();
        let leaf = cached.cert().leaf();
        let about = || Explanation::about(leaf.clone());
        let reject = |r: Rejection| r.at_element(index);
        let out_of_date = |reason| {
            let why = about().with_clock(now, p.leeway);
            Err(reject(Rejection::of(reason)).explained(why))
        };
        if let Some(reason) = self.out_of_date(leaf, now) {
            return out_of_date(reason);
        }
        let (rule, anchor) = match cached.decision(now) {
            Some(d) => d,
            None => {
                let (rule, anchor, until) = self
                    .judge_rules(&p.rules, cached.cert(), now, r.cache.is_some())
                    .map_err(reject)?;
                if let Some(until) = until {
                    cached.set_decision(rule, anchor, until);
                }
                (rule, anchor)
            }
        };
        let verified_by = anchor.and_then(|a| {
            let set = p.rules[rule].chain.as_deref()?;
            let (name, anchors) = p.chains.verified_by(set)?;
            Some(crate::outcome::VerifiedBy::new(name, anchors, a))
        });
        Ok(ClientCert::new(
            leaf.clone(),
            Arc::clone(&p.rules[rule].label),
            index,
            now,
            verified_by,
        ))
    }

    /// `expired` or `not_yet_valid` when `leaf` is outside its validity
    /// period at `now`, with the policy's leeway. `leeway` is at most a day
    /// (checked at build time), and the arithmetic is checked anyway: a
    /// clock at the end of time is "not yet valid" for nothing and never
    /// panics.
    pub(crate) fn out_of_date(
        &self,
        leaf: &crate::cert::CertIdentity,
        now: SystemTime,
    ) -> Option<Reason> {
        let leeway = self.decision().leeway;
        if now
            .checked_add(leeway)
            .is_some_and(|t| t < leaf.not_before())
        {
            Some(Reason::NotYetValid)
        } else if now
            .checked_sub(leeway)
            .is_some_and(|t| t > leaf.not_after())
        {
            Some(Reason::Expired)
        } else {
            None
        }
    }

    /// The first rule that the proxy's fields satisfy (no validity period
    /// and no chain to check: the policy cannot be built with chain rules
    /// in this mode).
    fn finish_fields(
        &self,
        fields: ProxyFields,
        index: usize,
        now: SystemTime,
    ) -> Result<ClientCert, Rejection> {
        let p = self.decision();
        let mut rules = Vec::with_capacity(p.rules.len());
        for rule in &p.rules {
            let failed = rule.misses(&fields);
            if failed.is_empty() && rule.chain.is_none() {
                let label = Arc::clone(&rule.label);
                return Ok(ClientCert::from_fields(fields, label, index, now));
            }
            rules.push(RuleMiss::new(Arc::clone(&rule.label), failed, Vec::new()));
        }
        let why = Explanation::about_fields(fields).with_rules(rules);
        Err(Rejection::of(Reason::NotAllowed)
            .at_element(index)
            .explained(why))
    }

    /// The first rule that allows the certificate: (rule index, chain
    /// verified, reusable until). A name or thumbprint decision holds for
    /// the leaf's lifetime; a chain decision until the earliest `notAfter`
    /// on the path, and not at all when CRLs are in play.
    pub(crate) fn judge_rules(
        &self,
        rules: &[crate::rules::CompiledRule],
        fc: &ForwardedCert,
        now: SystemTime,
        cached: bool,
    ) -> Result<(usize, Option<usize>, Option<SystemTime>), Rejection> {
        let p = self.decision();
        let mut chain_failure = None;
        // Each anchor set is verified at most once per header, however many
        // rules name it.
        let mut failed_sets: Vec<&str> = Vec::new();
        let leaf = fc.leaf();
        // Each rule is evaluated once, in full: what it fails both decides
        // and, on rejection, explains (no second pass over the SANs).
        // (Built only once a rule does not allow: nothing is allocated for
        // the explanation of a certificate the first rule allows.)
        let mut misses = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let failed = rule.misses(leaf);
            let names_hold = failed.is_empty();
            if names_hold && rule.chain.is_none() {
                return Ok((i, None, Some(leaf.not_after())));
            }
            let seen = rule.seen(&failed, leaf);
            misses.push(RuleMiss::new(Arc::clone(&rule.label), failed, seen));
            let Some(set) = rule.chain.as_deref().filter(|_| names_hold) else {
                continue;
            };
            if failed_sets.contains(&set) {
                continue;
            }
            let limits = p.options.limits();
            match p.chains.verify(set, fc, now, cached, limits) {
                Ok((until, anchor)) => return Ok((i, Some(anchor), until)),
                Err(detail) => {
                    chain_failure = chain_failure.or(Some((set, detail)));
                    failed_sets.push(set);
                }
            }
        }
        let why = Explanation::about(leaf.clone()).with_rules(misses);
        Err(match chain_failure {
            Some((set, detail)) => {
                let intermediates = fc.intermediates_der().len();
                let facts =
                    ChainFacts::new(set.to_owned(), p.chains.anchor_names(set), intermediates);
                let r = Rejection::new(Reason::ChainInvalid, Detail::Chain(detail))
                    .explained(why.with_chain(facts));
                if leaf.is_self_issued()
                    && matches!(detail, ChainError::WrongEku | ChainError::CaUsedAsLeaf)
                {
                    r.with_hint(Hint::SelfIssued)
                } else {
                    r
                }
            }
            None => Rejection::of(Reason::NotAllowed).explained(why),
        })
    }

    /// A cache lookup, counted by the `metrics` feature (nothing without a
    /// cache).
    fn cache_get(r: &Reading, key: &KeyRef<'_>) -> Option<(Arc<CachedCert>, usize)> {
        let cache = r.cache.as_ref()?;
        let found = cache.get(key);
        metrics::cache_lookup(found.is_some());
        found
    }

    /// Number of certificates in the cache (0 without one; with
    /// `[[sources]]`, in all their caches).
    pub fn cache_len(&self) -> usize {
        self.readings()
            .filter_map(|r| r.cache.as_ref())
            .map(Cache::len)
            .sum()
    }

    /// The bytes the cache's entries are weighed at (0 without one).
    pub fn cache_bytes(&self) -> u64 {
        self.readings()
            .filter_map(|r| r.cache.as_ref())
            .map(Cache::weight)
            .sum()
    }
}
