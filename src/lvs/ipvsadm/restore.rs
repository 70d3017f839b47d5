//! `ipvsadm -R` input (`config_stream_read`, ipvsadm.md §8): one invocation per line, words
//! split on space, tab and carriage return, every word `ipvsadm` dropped, lines without words
//! skipped. `#` is an ordinary character.

/// The lines of `-R` input that run, as (1-based line number, words without `argv[0]`).
///
/// Quirk kept: on a last line without a newline, a run of two or more blanks after the last
/// word makes `config_stream_read` hit end of file while skipping blanks, and it then drops
/// the whole line.
pub fn restore_lines(text: &str) -> Vec<(usize, Vec<String>)> {
    let ends_with_newline = text.ends_with('\n');
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .filter(|&(i, line)| i < last || (!ends_with_newline && !dropped_at_eof(line)))
        .filter_map(|(i, line)| {
            let words: Vec<String> = line
                .split([' ', '\t', '\r'])
                .filter(|w| !w.is_empty() && *w != "ipvsadm")
                .map(str::to_string)
                .collect();
            (!words.is_empty()).then_some((i + 1, words))
        })
        .collect()
}

/// Whether an unterminated last line is lost: it ends in two or more blanks.
fn dropped_at_eof(line: &str) -> bool {
    let trailing = line.len() - line.trim_end_matches([' ', '\t', '\r']).len();
    trailing >= 2
}
