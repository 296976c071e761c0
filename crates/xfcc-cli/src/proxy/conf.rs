//! A reader for brace-structured configuration files (nginx, Caddyfile):
//! directives with their arguments and line numbers, and the blocks they
//! open, nested as the proxy nests them. It knows each format's quoting
//! and comments, not its directives: the models in `nginx.rs` and
//! `caddy.rs` give them meaning.

use std::rc::Rc;

/// How a directive ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// nginx: `;` or a `{ ... }` block; `#` starts a comment at a word's start.
    Nginx,
    /// Caddyfile: the end of the line or a `{ ... }` block opened at its end;
    /// `#` starts a comment after whitespace.
    Caddy,
}

/// One directive: `name args... ;` or `name args... { block }`.
#[derive(Debug, Clone)]
pub(crate) struct Directive {
    pub(crate) name: String,
    pub(crate) args: Vec<String>,
    /// 1-based line of the name.
    pub(crate) line: usize,
    /// The file it was read from (an `include` splices other files in).
    pub(crate) file: Rc<str>,
    pub(crate) block: Option<Vec<Directive>>,
}

impl Directive {
    /// `file:line`, for findings.
    pub(crate) fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The directives of its block (none without one).
    pub(crate) fn children(&self) -> &[Directive] {
        self.block.as_deref().unwrap_or(&[])
    }

    /// The first argument, or "".
    pub(crate) fn arg(&self, i: usize) -> &str {
        self.args.get(i).map_or("", String::as_str)
    }
}

/// Why a file could not be read as a configuration.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) message: &'static str,
}

struct Token {
    text: String,
    line: usize,
    quoted: bool,
    /// A line break came between this token and the previous one.
    starts_line: bool,
}

/// The largest file read, and the deepest nesting accepted: a configuration
/// is small; anything past these is not one.
pub(crate) const MAX_BYTES: usize = 4 << 20;
const MAX_DEPTH: usize = 64;

fn tokens(text: &str, style: Style) -> Result<Vec<Token>, SyntaxError> {
    let mut out: Vec<Token> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut starts_line = true;
    let mut word = String::new();
    let mut word_line = 1;
    let flush = |word: &mut String, out: &mut Vec<Token>, line: usize, starts_line: &mut bool| {
        if !word.is_empty() {
            out.push(Token {
                text: std::mem::take(word),
                line,
                quoted: false,
                starts_line: std::mem::take(starts_line),
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                flush(&mut word, &mut out, word_line, &mut starts_line);
                line += 1;
                starts_line = true;
            }
            c if c.is_whitespace() => flush(&mut word, &mut out, word_line, &mut starts_line),
            '#' if word.is_empty() => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '"' | '\'' | '`'
                if word.is_empty()
                    && (c != '\'' || style == Style::Nginx)
                    && (c != '`' || style == Style::Caddy) =>
            {
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(SyntaxError {
                                line: start,
                                message: "a quoted string is not closed",
                            });
                        }
                        Some(q) if q == c => break,
                        Some('\\') if c != '`' => match chars.next() {
                            Some(e) => {
                                if e == '\n' {
                                    line += 1;
                                }
                                if e != c && e != '\\' {
                                    s.push('\\');
                                }
                                s.push(e);
                            }
                            None => {
                                return Err(SyntaxError {
                                    line: start,
                                    message: "a quoted string is not closed",
                                });
                            }
                        },
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            s.push(ch);
                        }
                    }
                }
                out.push(Token {
                    text: s,
                    line: start,
                    quoted: true,
                    starts_line: std::mem::take(&mut starts_line),
                });
            }
            ';' | '{' | '}' if style == Style::Nginx && !word.ends_with('$') => {
                flush(&mut word, &mut out, word_line, &mut starts_line);
                out.push(Token {
                    text: c.to_string(),
                    line,
                    quoted: false,
                    starts_line: std::mem::take(&mut starts_line),
                });
            }
            c => {
                if word.is_empty() {
                    word_line = line;
                }
                word.push(c);
                // nginx's `${name}`: the braces belong to the variable.
                if style == Style::Nginx && c == '{' {
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        word.push(n);
                        if n == '}' {
                            break;
                        }
                    }
                }
            }
        }
    }
    flush(&mut word, &mut out, word_line, &mut starts_line);
    Ok(out)
}

/// Reads `text` (from `file`) into its directives.
pub(crate) fn parse(text: &str, file: &str, style: Style) -> Result<Vec<Directive>, SyntaxError> {
    if text.len() > MAX_BYTES {
        return Err(SyntaxError {
            line: 1,
            message: "larger than 4 MiB: not a configuration file",
        });
    }
    let toks = tokens(text, style)?;
    let file: Rc<str> = Rc::from(file);
    let mut pos = 0;
    let list = block(&toks, &mut pos, &file, style, 0)?;
    if let Some(t) = toks.get(pos) {
        return Err(SyntaxError {
            line: t.line,
            message: "a `}` closes no block",
        });
    }
    Ok(list)
}

fn is(t: &Token, s: &str) -> bool {
    !t.quoted && t.text == s
}

fn block(
    toks: &[Token],
    pos: &mut usize,
    file: &Rc<str>,
    style: Style,
    depth: usize,
) -> Result<Vec<Directive>, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(SyntaxError {
            line: toks.get(*pos).map_or(1, |t| t.line),
            message: "nested more than 64 blocks deep",
        });
    }
    let mut out = Vec::new();
    while let Some(t) = toks.get(*pos) {
        if is(t, "}") {
            if depth == 0 {
                return Ok(out);
            }
            *pos += 1;
            return Ok(out);
        }
        if style == Style::Nginx && is(t, ";") {
            *pos += 1;
            continue;
        }
        // A Caddy block with no name (the global options) opens with `{`.
        let named = !is(t, "{");
        let (name, line) = (if named { t.text.clone() } else { String::new() }, t.line);
        if named {
            *pos += 1;
        }
        let mut args = Vec::new();
        let mut sub = None;
        while let Some(t) = toks.get(*pos) {
            // A Caddy directive ends with its line.
            if style == Style::Caddy && named && t.starts_line {
                break;
            }
            if is(t, "{") {
                *pos += 1;
                sub = Some(block(toks, pos, file, style, depth + 1)?);
                break;
            }
            if is(t, "}") {
                break;
            }
            *pos += 1;
            if style == Style::Nginx && is(t, ";") {
                break;
            }
            args.push(t.text.clone());
        }
        out.push(Directive {
            name,
            args,
            line,
            file: Rc::clone(file),
            block: sub,
        });
        if depth > 0 && toks.get(*pos).is_none() {
            return Err(SyntaxError {
                line,
                message: "a `{` block is not closed",
            });
        }
    }
    if depth > 0 {
        return Err(SyntaxError {
            line: toks.last().map_or(1, |t| t.line),
            message: "a `{` block is not closed",
        });
    }
    Ok(out)
}

/// Every directive under `list`, depth first, with its enclosing
/// directives (outermost first).
pub(crate) fn walk<'a>(list: &'a [Directive], f: &mut dyn FnMut(&'a Directive, &[&'a Directive])) {
    fn go<'a>(
        list: &'a [Directive],
        stack: &mut Vec<&'a Directive>,
        f: &mut dyn FnMut(&'a Directive, &[&'a Directive]),
    ) {
        for d in list {
            f(d, stack);
            if let Some(b) = &d.block {
                stack.push(d);
                go(b, stack, f);
                stack.pop();
            }
        }
    }
    go(list, &mut Vec::new(), f);
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn names(list: &[Directive]) -> Vec<String> {
        list.iter()
            .map(|d| {
                format!(
                    "{}:{}{}",
                    d.line,
                    d.name,
                    if d.block.is_some() { "{}" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn nginx_blocks_quotes_and_comments() {
        let text = "http {\n  # proxy_set_header X a;\n  server { listen 443 ssl; location /a/ { proxy_set_header \"X-A\" '$ssl_client_escaped_cert'; } }\n}\n";
        let list = parse(text, "f", Style::Nginx).unwrap();
        assert_eq!(names(&list), ["1:http{}"]);
        let server = &list[0].children()[0];
        assert_eq!(names(server.children()), ["3:listen", "3:location{}"]);
        let psh = &server.children()[1].children()[0];
        assert_eq!(psh.args, ["X-A", "$ssl_client_escaped_cert"]);
        assert!(parse("http {", "f", Style::Nginx).is_err());
        assert!(parse("}", "f", Style::Nginx).is_err());
        assert!(parse("a \"b;", "f", Style::Nginx).is_err());
        let var = parse("set $x ${host}a;", "f", Style::Nginx).unwrap();
        assert_eq!(var[0].args, ["$x", "${host}a"]);
    }

    #[test]
    fn caddy_lines_placeholders_and_global_block() {
        let text = "{\n  debug\n}\nhttps://a.example {\n  reverse_proxy 127.0.0.1:1 {\n    header_up X-Client-Cert {http.request.tls.client.certificate_der_base64} # c\n  }\n  respond \"a # b\"\n}\n";
        let list = parse(text, "f", Style::Caddy).unwrap();
        assert_eq!(names(&list), ["1:{}", "4:https://a.example{}"]);
        let site = &list[1];
        assert_eq!(names(site.children()), ["5:reverse_proxy{}", "8:respond"]);
        let up = &site.children()[0].children()[0];
        assert_eq!(
            up.args,
            [
                "X-Client-Cert",
                "{http.request.tls.client.certificate_der_base64}"
            ]
        );
        assert_eq!(site.children()[1].args, ["a # b"]);
    }
}
