//! Mending the HTTP/2 `:authority` that etcd's own clients send.
//!
//! etcd's Go client dials each endpoint as written on the command line, so `etcdctl
//! --endpoints=http://127.0.0.1:2379 endpoint status` sends `:authority: http://127.0.0.1:2379`
//! with every request. That is not an authority (RFC 3986 has no scheme in it), but etcd's
//! server, grpc-go, ignores the authority and answers. Rust's HTTP/2 server (`h2`, under
//! hyper and tonic) checks it and resets the stream with `PROTOCOL_ERROR`, and its authors
//! have declined to relax that (hyperium/h2#525).
//!
//! So the client port reads each connection through [`MendAuthority`], which sits between the
//! socket and hyper. It looks at the first header block of an HTTP/2 connection (decoding
//! HPACK). If its authority is fine, as on every connection but those etcdctl opens to a URL
//! endpoint, the whole connection is passed on untouched from then on. Otherwise it mends
//! every header block of the connection: decodes it (keeping the client's table), cuts
//! `http://host:port` down to `host:port`, and hands hyper the block encoded anew as plain
//! literals, which leave hyper's header table empty and so in step with what it is given.
//! Anything it does not understand (HTTP/1, a malformed frame) it stops mending and passes on
//! as it came, for hyper to answer as it would have.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER: usize = 9;
/// HTTP/2's smallest frame size limit, which hyper keeps: no legal frame is longer.
const MAX_FRAME: usize = 16_384;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// A client connection whose header blocks are mended on their way in.
pub struct MendAuthority<S> {
    inner: S,
    mode: Mode,
    /// Bytes read from the socket and not yet looked at.
    unread: BytesMut,
    /// Bytes ready for hyper.
    ready: BytesMut,
    /// A header block whose CONTINUATION frames have not all arrived.
    pending: Option<HeaderBlock>,
    /// Whether a header block has been rewritten: from then on every block must be, as
    /// hyper's header table no longer follows the client's.
    mending: bool,
    decoder: fluke_hpack::Decoder<'static>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Waiting to see whether the connection opens with HTTP/2's preface.
    Preface,
    /// At the start of a frame.
    FrameHeader,
    /// Inside a frame that is passed on as it is: this many bytes of it remain.
    Payload(usize),
    /// Passing everything on unchanged.
    Passthrough,
}

struct HeaderBlock {
    stream: [u8; 4],
    flags: u8,
    priority: Option<[u8; 5]>,
    fragments: Vec<u8>,
    /// The frames as they came, passed on unchanged if the block cannot be mended.
    frames: Vec<u8>,
}

impl<S> MendAuthority<S> {
    pub fn new(inner: S) -> MendAuthority<S> {
        MendAuthority {
            inner,
            mode: Mode::Preface,
            unread: BytesMut::new(),
            ready: BytesMut::new(),
            pending: None,
            mending: false,
            decoder: fluke_hpack::Decoder::new(),
        }
    }

    /// Moves what can be understood from `unread` to `ready`.
    fn mend(&mut self) {
        loop {
            match self.mode {
                Mode::Passthrough => {
                    let rest = self.unread.split();
                    self.ready.extend_from_slice(&rest);
                    return;
                }
                Mode::Preface => {
                    let seen = self.unread.len().min(PREFACE.len());
                    if self.unread[..seen] != PREFACE[..seen] {
                        self.mode = Mode::Passthrough;
                    } else if seen == PREFACE.len() {
                        let preface = self.unread.split_to(seen);
                        self.ready.extend_from_slice(&preface);
                        self.mode = Mode::FrameHeader;
                    } else {
                        return;
                    }
                }
                Mode::Payload(left) => {
                    let now = left.min(self.unread.len());
                    let bytes = self.unread.split_to(now);
                    self.ready.extend_from_slice(&bytes);
                    if now < left {
                        self.mode = Mode::Payload(left - now);
                        return;
                    }
                    self.mode = Mode::FrameHeader;
                }
                Mode::FrameHeader => {
                    if self.unread.len() < FRAME_HEADER {
                        return;
                    }
                    let length =
                        u32::from_be_bytes([0, self.unread[0], self.unread[1], self.unread[2]])
                            as usize;
                    let kind = self.unread[3];
                    if kind != HEADERS && kind != CONTINUATION {
                        if self.pending.is_some() {
                            // Only CONTINUATION may follow an unfinished header block.
                            self.give_up();
                            continue;
                        }
                        let header = self.unread.split_to(FRAME_HEADER);
                        self.ready.extend_from_slice(&header);
                        self.mode = Mode::Payload(length);
                    } else if length > MAX_FRAME {
                        self.give_up();
                    } else if self.unread.len() < FRAME_HEADER + length {
                        return;
                    } else {
                        let frame = self.unread.split_to(FRAME_HEADER + length);
                        if self.header_frame(&frame).is_none() {
                            self.give_up();
                            self.ready.extend_from_slice(&frame);
                        }
                    }
                }
            }
        }
    }

    /// Stops mending: a header block held back goes on as it came (nothing was made ready
    /// after it began, as only its own CONTINUATION frames may follow it).
    fn give_up(&mut self) {
        if let Some(block) = self.pending.take() {
            self.ready.extend_from_slice(&block.frames);
        }
        self.mode = Mode::Passthrough;
    }

    /// Takes a HEADERS or CONTINUATION frame; `None` if it cannot be mended (then the caller
    /// passes it on unchanged).
    fn header_frame(&mut self, frame: &[u8]) -> Option<()> {
        let (kind, flags, stream) = (frame[3], frame[4], [frame[5], frame[6], frame[7], frame[8]]);
        let mut payload = &frame[FRAME_HEADER..];
        if kind == HEADERS {
            if self.pending.is_some() {
                return None;
            }
            if flags & PADDED != 0 {
                let padding = *payload.first()? as usize;
                payload = payload.get(1..payload.len().checked_sub(padding)?)?;
            }
            let priority = if flags & PRIORITY != 0 {
                let bytes: [u8; 5] = payload.get(..5)?.try_into().ok()?;
                payload = &payload[5..];
                Some(bytes)
            } else {
                None
            };
            self.pending = Some(HeaderBlock {
                stream,
                flags,
                priority,
                fragments: Vec::new(),
                frames: Vec::new(),
            });
        }
        let block = self.pending.as_mut()?;
        if block.stream != stream {
            return None;
        }
        block.fragments.extend_from_slice(payload);
        block.frames.extend_from_slice(frame);
        if flags & END_HEADERS == 0 {
            return Some(());
        }
        let block = self.pending.take()?;
        let Ok(headers) = self.decoder.decode(&block.fragments) else {
            // hyper's decoder will find the same fault and answer it.
            self.pending = Some(block);
            self.give_up();
            return Some(());
        };
        let needs_mending = headers
            .iter()
            .any(|(name, value)| name == b":authority" && mended(value) != value.as_slice());
        if !needs_mending && !self.mending {
            // A gRPC client sends one authority for all of a connection's calls: a connection
            // whose first call needs no mending never will, and is passed on as it comes
            // (hyper's table and the client's are still the same, nothing having been
            // rewritten). Mending is for the connections etcdctl opens to one URL endpoint.
            self.pending = Some(block);
            self.give_up();
            return Some(());
        }
        self.mending = true;
        self.write_block(&block, &headers);
        Some(())
    }

    /// Writes a decoded header block for hyper: the authority mended, every field a literal
    /// "without indexing", split into frames no longer than the smallest limit.
    fn write_block(&mut self, block: &HeaderBlock, headers: &[(Vec<u8>, Vec<u8>)]) {
        let mut encoded = Vec::new();
        for (name, value) in headers {
            let value = match name.as_slice() {
                b":authority" => mended(value),
                _ => value,
            };
            encoded.push(0x00); // a literal field, not added to the table, with a new name
            for text in [name.as_slice(), value] {
                fluke_hpack::encoder::encode_integer_into(text.len(), 7, 0, &mut encoded)
                    .expect("writing to a Vec");
                encoded.extend_from_slice(text);
            }
        }
        let mut first = true;
        let mut rest = &encoded[..];
        loop {
            let priority = if first { block.priority } else { None };
            let room = MAX_FRAME - priority.map_or(0, |p| p.len());
            let (chunk, after) = rest.split_at(room.min(rest.len()));
            let mut flags = if first {
                block.flags & (END_STREAM | PRIORITY)
            } else {
                0
            };
            if after.is_empty() {
                flags |= END_HEADERS;
            }
            let length = chunk.len() + priority.map_or(0, |p| p.len());
            self.ready
                .extend_from_slice(&(length as u32).to_be_bytes()[1..]);
            self.ready
                .extend_from_slice(&[if first { HEADERS } else { CONTINUATION }, flags]);
            self.ready.extend_from_slice(&block.stream);
            if let Some(priority) = priority {
                self.ready.extend_from_slice(&priority);
            }
            self.ready.extend_from_slice(chunk);
            if after.is_empty() {
                return;
            }
            first = false;
            rest = after;
        }
    }
}

/// `http://127.0.0.1:2379` (or with a path) becomes `127.0.0.1:2379`; an authority without a
/// scheme is left as it is.
fn mended(authority: &[u8]) -> &[u8] {
    let Some(at) = authority.windows(3).position(|w| w == b"://") else {
        return authority;
    };
    let rest = &authority[at + 3..];
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    &rest[..end]
}

impl<S: AsyncRead + Unpin> AsyncRead for MendAuthority<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        into: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.ready.is_empty() {
                let n = into.remaining().min(this.ready.len());
                into.put_slice(&this.ready[..n]);
                this.ready.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.mode == Mode::Passthrough && this.unread.is_empty() {
                return Pin::new(&mut this.inner).poll_read(cx, into);
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // The client closed its side: whatever was held back goes on as it is.
                this.give_up();
                this.mend();
                if this.ready.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.unread.extend_from_slice(read.filled());
            this.mend();
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for MendAuthority<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, bytes)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bytes)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        bytes.extend_from_slice(&[kind, flags]);
        bytes.extend_from_slice(&stream.to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    /// Feeds `input` in pieces of `step` bytes and decodes the header blocks that come out.
    fn mend_in_steps(input: &[u8], step: usize) -> (Vec<u8>, MendAuthority<()>) {
        let mut mend = MendAuthority::new(());
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            mend.unread.extend_from_slice(piece);
            mend.mend();
            out.extend_from_slice(&mend.ready.split());
        }
        (out, mend)
    }

    fn header_blocks(bytes: &[u8]) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut decoder = fluke_hpack::Decoder::new();
        let mut rest = &bytes[PREFACE.len()..];
        let (mut blocks, mut block) = (Vec::new(), Vec::new());
        while !rest.is_empty() {
            let length = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
            let (kind, flags) = (rest[3], rest[4]);
            let mut payload = &rest[FRAME_HEADER..FRAME_HEADER + length];
            if kind == HEADERS || kind == CONTINUATION {
                if flags & PRIORITY != 0 {
                    payload = &payload[5..];
                }
                block.extend_from_slice(payload);
                if flags & END_HEADERS != 0 {
                    blocks.push(decoder.decode(&block).unwrap());
                    block.clear();
                }
            }
            rest = &rest[FRAME_HEADER + length..];
        }
        blocks
    }

    #[test]
    fn a_url_authority_becomes_host_and_port_even_when_the_client_indexes_it() {
        let fields: Vec<(&[u8], &[u8])> = vec![
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", b"/etcdserverpb.Maintenance/Status"),
            (b":authority", b"http://127.0.0.1:2379"),
            (b"content-type", b"application/grpc"),
        ];
        // As Go's client does, the first request adds each field to the table...
        let mut first = Vec::new();
        for (name, value) in &fields {
            first.push(0x40); // a literal field, added to the table, with a new name
            for text in [name, value] {
                first.push(text.len() as u8);
                first.extend_from_slice(text);
            }
        }
        // ...and the second sends only their places in it (62 is the newest), so the mender
        // must keep the client's table to find the authority.
        let second: Vec<u8> = (62..67).rev().map(|index| 0x80 | index).collect();
        let mut input = PREFACE.to_vec();
        input.extend(frame(0x4, 0, 0, &[])); // SETTINGS, passed on as it is
        input.extend(frame(HEADERS, END_HEADERS, 1, &first));
        input.extend(frame(0x0, END_STREAM, 1, b"data"));
        // The second block comes in two frames, with padding and a priority on the first.
        let mut padded = vec![3u8];
        padded.extend_from_slice(&[0, 0, 0, 0, 16]);
        padded.extend_from_slice(&second[..4]);
        padded.extend_from_slice(&[0, 0, 0]);
        input.extend(frame(HEADERS, PADDED | PRIORITY, 3, &padded));
        input.extend(frame(CONTINUATION, END_HEADERS, 3, &second[4..]));
        for step in [1, 7, input.len()] {
            let (out, mend) = mend_in_steps(&input, step);
            assert_eq!(mend.mode, Mode::FrameHeader, "step {step}");
            let blocks = header_blocks(&out);
            assert_eq!(blocks.len(), 2);
            for block in blocks {
                let authority = block.iter().find(|(n, _)| n == b":authority").unwrap();
                assert_eq!(authority.1, b"127.0.0.1:2379");
                assert_eq!(block.len(), fields.len());
            }
            assert!(out.windows(4).any(|w| w == b"data"));
        }
    }

    #[test]
    fn a_connection_whose_first_authority_is_fine_passes_through_untouched() {
        let mut block = Vec::new();
        for (name, value) in [
            (&b":authority"[..], &b"127.0.0.1:2379"[..]),
            (b":path", b"/etcdserverpb.KV/Put"),
        ] {
            block.push(0x40);
            for text in [name, value] {
                block.push(text.len() as u8);
                block.extend_from_slice(text);
            }
        }
        let mut input = PREFACE.to_vec();
        input.extend(frame(HEADERS, END_HEADERS, 1, &block));
        input.extend(frame(0x0, END_STREAM, 1, b"data"));
        // A later block, even a malformed one, is no longer looked at.
        input.extend(frame(HEADERS, END_HEADERS, 3, &[0xff, 0xff]));
        let (out, mend) = mend_in_steps(&input, 5);
        assert_eq!(out, input);
        assert_eq!(mend.mode, Mode::Passthrough);
    }

    #[test]
    fn http1_and_broken_frames_pass_through_unchanged() {
        let http1 = b"POST /v3/kv/put HTTP/1.1\r\nHost: http://x\r\n\r\n{}".to_vec();
        let (out, mend) = mend_in_steps(&http1, 5);
        assert_eq!(out, http1);
        assert_eq!(mend.mode, Mode::Passthrough);

        let mut broken = PREFACE.to_vec();
        broken.extend(frame(HEADERS, END_HEADERS, 1, &[0xff, 0xff, 0xff]));
        broken.extend(frame(0x0, 0, 1, b"after"));
        let (out, mend) = mend_in_steps(&broken, 3);
        assert_eq!(out, broken);
        assert_eq!(mend.mode, Mode::Passthrough);
    }

    #[test]
    fn only_a_scheme_and_path_are_cut() {
        assert_eq!(mended(b"http://127.0.0.1:2379"), b"127.0.0.1:2379");
        assert_eq!(mended(b"https://infra1:2379/x"), b"infra1:2379");
        assert_eq!(mended(b"127.0.0.1:2379"), b"127.0.0.1:2379");
    }
}
