//! Line diffs in the unified format: made for every edit a run shows, and
//! applied when an agent's edit arrives as a patch.

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Beyond this many cells the middle of a diff is shown as one replacement
/// rather than searched for the shortest edit. Enough for two runs'
/// 2,000 compared steps each (`run_comparison`), 2,001² cells.
const MAX_CELLS: usize = 4_100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Removed,
    Added,
}

/// Lines of `text`, without their line ends, and whether it ended with one.
fn lines(text: &str) -> (Vec<&str>, bool) {
    if text.is_empty() {
        return (Vec::new(), true);
    }
    let ends = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    (body.split('\n').collect(), ends)
}

/// Lines of `text` with their line ends, so that a last line with and one
/// without a line end differ as the files do.
fn lines_with_ends(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Where each item of two sequences went: in both, or in one only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aligned {
    Both(usize, usize),
    OnlyA(usize),
    OnlyB(usize),
}

/// The shortest edit script from `a` to `b` (a longest common
/// subsequence), after setting aside what both share at either end; in
/// order, removals before additions as diff(1) shows them. Past
/// [`MAX_CELLS`] the middle is one replacement.
pub fn align<T: PartialEq>(a: &[T], b: &[T]) -> Vec<Aligned> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<Aligned> = (0..prefix).map(|i| Aligned::Both(i, i)).collect();
    let (ia, ib) = (|i| prefix + i, |j| prefix + j);
    if (ma.len() + 1) * (mb.len() + 1) > MAX_CELLS {
        out.extend((0..ma.len()).map(|i| Aligned::OnlyA(ia(i))));
        out.extend((0..mb.len()).map(|j| Aligned::OnlyB(ib(j))));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                out.push(Aligned::Both(ia(i), ib(j)));
                i += 1;
                j += 1;
            } else if i < ma.len() && (j == mb.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                out.push(Aligned::OnlyA(ia(i)));
                i += 1;
            } else {
                out.push(Aligned::OnlyB(ib(j)));
                j += 1;
            }
        }
    }
    let (ea, eb) = (a.len() - suffix, b.len() - suffix);
    out.extend((0..suffix).map(|k| Aligned::Both(ea + k, eb + k)));
    out
}

/// [`align`] of two texts' lines, as the unified format reads it.
fn script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Op, &'a str)> {
    align(a, b)
        .into_iter()
        .map(|step| match step {
            Aligned::Both(i, _) => (Op::Same, a[i]),
            Aligned::OnlyA(i) => (Op::Removed, a[i]),
            Aligned::OnlyB(j) => (Op::Added, b[j]),
        })
        .collect()
}

/// A unified diff from `old` to `new` of the file at `path`; empty when
/// they are the same.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a = lines_with_ends(old);
    let b = lines_with_ends(new);
    let ops = script(&a, &b);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != Op::Same).collect();
    // Group changes whose contexts touch into hunks.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &k in &changed {
        let start = k.saturating_sub(CONTEXT);
        let end = (k + CONTEXT + 1).min(ops.len());
        match groups.last_mut() {
            Some(g) if start <= g.1 => g.1 = end,
            _ => groups.push((start, end)),
        }
    }
    for (start, end) in groups {
        let old_start = ops[..start].iter().filter(|o| o.0 != Op::Added).count();
        let new_start = ops[..start].iter().filter(|o| o.0 != Op::Removed).count();
        let old_len = ops[start..end].iter().filter(|o| o.0 != Op::Added).count();
        let new_len = ops[start..end]
            .iter()
            .filter(|o| o.0 != Op::Removed)
            .count();
        let first = |s: usize, n: usize| if n == 0 { s } else { s + 1 };
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            first(old_start, old_len),
            first(new_start, new_len)
        ));
        for &(op, line) in &ops[start..end] {
            let mark = match op {
                Op::Same => ' ',
                Op::Removed => '-',
                Op::Added => '+',
            };
            push_line(&mut out, mark, line);
        }
    }
    out
}

/// One line of a hunk; `line` keeps its line end, if it has one.
fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    match line.strip_suffix('\n') {
        Some(line) => {
            out.push_str(line);
            out.push('\n');
        }
        None => {
            out.push_str(line);
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// One hunk of a patch: the lines it expects and the lines it leaves.
struct Hunk {
    old_start: usize,
    old: Vec<String>,
    new: Vec<String>,
    /// Whether the hunk's last new line ends with a line end.
    new_ends: bool,
}

fn parse_hunks(patch: &str) -> Result<Vec<Hunk>, String> {
    let mut hunks: Vec<Hunk> = Vec::new();
    let mut last: Option<char> = None;
    // Split at `\n` only: `str::lines` would also drop a `\r` before it,
    // which is part of a line of a file with CRLF line ends.
    for line in patch.split_inclusive('\n') {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if let Some(header) = line.strip_prefix("@@ ") {
            let old = header
                .split_whitespace()
                .next()
                .and_then(|r| r.strip_prefix('-'))
                .ok_or_else(|| format!("a hunk header is malformed: {line:?}"))?;
            let old_start: usize = old
                .split(',')
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("a hunk header is malformed: {line:?}"))?;
            hunks.push(Hunk {
                old_start,
                old: Vec::new(),
                new: Vec::new(),
                new_ends: true,
            });
            last = None;
            continue;
        }
        let Some(h) = hunks.last_mut() else {
            continue; // `---`/`+++` headers and anything before the first hunk
        };
        match line.chars().next() {
            Some(' ') | None => {
                let text = line.get(1..).unwrap_or("").to_owned();
                h.old.push(text.clone());
                h.new.push(text);
                last = Some(' ');
            }
            Some('-') => {
                h.old.push(line[1..].to_owned());
                last = Some('-');
            }
            Some('+') => {
                h.new.push(line[1..].to_owned());
                last = Some('+');
            }
            // "\ No newline at end of file" after a line the new text keeps.
            Some('\\') => {
                if last != Some('-') {
                    h.new_ends = false;
                }
            }
            Some(_) => {
                return Err(format!(
                    "a patch line starts with neither space, -, + nor @@: {line:?}"
                ));
            }
        }
    }
    if hunks.is_empty() {
        return Err("the patch has no hunk (@@ … @@)".into());
    }
    Ok(hunks)
}

/// Applies a unified diff to `old`. Each hunk must find its lines exactly,
/// at its stated line or, if the file moved, the nearest place after the
/// previous hunk; otherwise the patch is refused, naming the hunk.
pub fn apply_unified_diff(old: &str, patch: &str) -> Result<String, String> {
    let (a, mut ends) = lines(old);
    let hunks = parse_hunks(patch)?;
    let mut out: Vec<String> = Vec::new();
    let mut at = 0; // next line of `a` not yet copied
    for (n, h) in hunks.iter().enumerate() {
        let stated = h.old_start.saturating_sub(1).max(at);
        let fits = |p: usize| {
            p + h.old.len() <= a.len()
                && a[p..p + h.old.len()]
                    .iter()
                    .zip(&h.old)
                    .all(|(x, y)| x == y)
        };
        // The stated place first, then ever further from it either way.
        let place = (0..=a.len())
            .flat_map(|d| [stated.checked_add(d), stated.checked_sub(d)])
            .flatten()
            .filter(|&p| p >= at && p <= a.len())
            .find(|&p| fits(p))
            .ok_or_else(|| {
                format!(
                    "hunk {} does not apply: its lines are not in the file",
                    n + 1
                )
            })?;
        out.extend(a[at..place].iter().map(|l| (*l).to_owned()));
        out.extend(h.new.iter().cloned());
        at = place + h.old.len();
        if at == a.len() {
            ends = h.new_ends;
        }
    }
    out.extend(a[at..].iter().map(|l| (*l).to_owned()));
    let mut text = out.join("\n");
    if ends && !out.is_empty() {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_applies_back_to_what_it_was_made_from() {
        let old = "fn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n";
        let new =
            "fn main() {\n    let x = 2;\n    println!(\"{x}\");\n    println!(\"done\");\n}\n";
        let d = unified_diff("src/main.rs", old, new);
        assert_eq!(
            d,
            "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1,4 +1,5 @@\n fn main() {\n-    let x = 1;\n+    let x = 2;\n     println!(\"{x}\");\n+    println!(\"done\");\n }\n"
        );
        assert_eq!(apply_unified_diff(old, &d).unwrap(), new);
        assert_eq!(unified_diff("x", old, old), "");
    }

    #[test]
    fn new_files_far_apart_hunks_and_missing_newlines() {
        let d = unified_diff("n.txt", "", "one\ntwo\n");
        assert!(d.contains("@@ -0,0 +1,2 @@"), "{d}");
        assert_eq!(apply_unified_diff("", &d).unwrap(), "one\ntwo\n");
        let old: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 3\n", "line three\n")
            .replace("line 38\n", "");
        let d = unified_diff("f", &old, &new);
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert_eq!(apply_unified_diff(&old, &d).unwrap(), new);
        let d = unified_diff("f", "a\nb", "a\nc");
        assert!(d.contains("\\ No newline at end of file"));
        assert_eq!(apply_unified_diff("a\nb", &d).unwrap(), "a\nc");
    }

    #[test]
    fn a_patch_that_does_not_fit_is_refused() {
        let patch = "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-nope\n+yes\n";
        assert_eq!(
            apply_unified_diff("hello\n", patch).unwrap_err(),
            "hunk 1 does not apply: its lines are not in the file"
        );
        assert!(apply_unified_diff("x", "not a patch").is_err());
    }

    #[test]
    fn a_diff_of_a_file_with_crlf_line_ends_applies() {
        // Found by fuzz/fuzz_targets/diff_apply.rs: the patch's lines lost
        // their `\r`, so no hunk found its lines in a CRLF file.
        for (old, new) in [
            ("\r", ""),
            ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),
            ("one\r\ntwo", "one\r\ntwo\r\n"),
        ] {
            let d = unified_diff("win.txt", old, new);
            assert_eq!(apply_unified_diff(old, &d).as_deref(), Ok(new), "{d}");
        }
    }

    #[test]
    fn a_diff_that_also_drops_the_final_line_end_applies() {
        // Found by fuzz/fuzz_targets/diff_apply.rs: the last line, the same
        // but for its line end, was taken for context, so the diff lost the
        // change of line end and gave "a\nx\n" for "a\nx".
        for (old, new) in [
            ("x\n", "a\nx"),
            ("x", "a\nx\n"),
            ("a\nb", "a\nb\n"),
            ("a\nb\n", "a"),
            ("1\n2\n3\n4\n5\n6\n7\n8\n", "0\n1\n2\n3\n4\n5\n6\n7\n8"),
        ] {
            let d = unified_diff("f", old, new);
            assert_eq!(apply_unified_diff(old, &d).as_deref(), Ok(new), "{d}");
        }
        assert_eq!(
            unified_diff("f", "a\nb", "a\nb\n"),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
    }

    #[test]
    fn a_hunk_whose_file_moved_still_applies() {
        // Stated at line 1, but two lines were added above meanwhile.
        let patch = "@@ -1,2 +1,2 @@\n a\n-b\n+B\n";
        assert_eq!(
            apply_unified_diff("x\ny\na\nb\n", patch).unwrap(),
            "x\ny\na\nB\n"
        );
    }
}
