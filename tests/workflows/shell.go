package workflows

import (
	"regexp"
	"strings"
)

// expression matches a GitHub Actions expression, ${{ ... }}, which GitHub replaces before the
// shell sees the script.
var expression = regexp.MustCompile(`\$\{\{.*?\}\}`)

// commands splits a run: script into its simple commands, each as its words: what the shell would
// run, not every word that appears in the script. It knows enough of the shell for the scripts in
// workflows: quotes, comments, line continuations, the separators ; & && | || and newlines,
// subshells and command substitutions ( ) $( ) ` `. Leading variable assignments and the keywords
// that may start a command (if, then, !, ...) are dropped, so words[0] is the command's name. Each
// ${{ ... }} expression becomes one word with its spaces removed, and redirections (2>&1,
// </dev/null) are dropped with their targets. Here-documents are not understood: their lines read
// as commands.
func commands(script string) [][]string {
	script = expression.ReplaceAllStringFunc(script, func(e string) string {
		return strings.Join(strings.Fields(e), "")
	})

	var (
		out    [][]string
		words  []string
		word   strings.Builder
		inWord bool // a word has started, even an empty quoted one
		single bool // inside '...'
		double bool // inside "..."
		// A command substitution or subshell starts a new command; when it ends, the shell is
		// back in the quotes it was in: one entry per open $( ( or `, true inside "...".
		outer []bool
		tick  bool // inside `...`
		// The word after a redirection operator is where it redirects to, not an argument.
		redirected bool
	)
	endWord := func() {
		if inWord {
			if !redirected {
				words = append(words, word.String())
			}
			redirected = false
			word.Reset()
			inWord = false
		}
	}
	endCommand := func() {
		endWord()
		redirected = false
		if cmd := commandWords(words); len(cmd) > 0 {
			out = append(out, cmd)
		}
		words = nil
	}
	open := func() { // $( ( `
		endCommand()
		outer = append(outer, double)
		double = false
	}
	closeSub := func() { // ) `
		endCommand()
		if n := len(outer); n > 0 {
			double = outer[n-1]
			outer = outer[:n-1]
		}
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			} else {
				word.WriteRune(c)
			}
		case c == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' { // a backslash-newline joins two lines
				word.WriteRune(rs[i])
				inWord = true
			}
		case c == '$' && i+1 < len(rs) && rs[i+1] == '(':
			open()
			i++
		case c == '`':
			if tick {
				closeSub()
			} else {
				open()
			}
			tick = !tick
		case double:
			if c == '"' {
				double = false
			} else {
				word.WriteRune(c)
			}
		case c == '\'':
			single, inWord = true, true
		case c == '"':
			double, inWord = true, true
		case c == '#' && !inWord:
			for i+1 < len(rs) && rs[i+1] != '\n' {
				i++
			}
		case c == '<' || c == '>' || (c == '&' && i+1 < len(rs) && rs[i+1] == '>'):
			// A redirection: 2>&1, >>log, </dev/null, &>out. A file descriptor number before
			// it (2>) is part of the operator, and so is the word after it.
			if inWord && isNumber(word.String()) {
				word.Reset()
				inWord = false
			}
			endWord()
			for i+1 < len(rs) && strings.ContainsRune("<>&", rs[i+1]) {
				i++
			}
			if i+1 < len(rs) && rs[i+1] == '-' { // >&- closes a descriptor
				i++
			}
			redirected = true
		case c == '(':
			open()
		case c == ')':
			closeSub()
		case strings.ContainsRune(";&|\n", c):
			endCommand()
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	endCommand()
	return out
}

// leadingKeywords are the shell words that may come before a command's name.
var leadingKeywords = map[string]bool{
	"!": true, "{": true, "}": true, "if": true, "then": true, "else": true, "elif": true, "fi": true,
	"do": true, "done": true, "while": true, "until": true, "time": true, "exec": true, "command": true,
}

// assignment matches a variable assignment before a command's name (NAME=value).
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// commandWords drops the assignments and keywords that lead words, leaving the command's name
// first; nil when nothing is left.
func commandWords(words []string) []string {
	for len(words) > 0 && (leadingKeywords[words[0]] || assignment.MatchString(words[0])) {
		words = words[1:]
	}
	return words
}

// makeCall is one run of make in a script.
type makeCall struct {
	command string   // the command as written (words joined by spaces)
	targets []string // the goals named on the command line, in order
	other   string   // an option that makes it run something other than the repository's Makefile
}

// makeCalls returns every run of make in script.
func makeCalls(script string) []makeCall {
	var out []makeCall
	for _, words := range commands(script) {
		if words[0] != "make" {
			continue
		}
		call := makeCall{command: strings.Join(words, " ")}
		args := words[1:]
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "-C" || a == "-f" || strings.HasPrefix(a, "--directory") || strings.HasPrefix(a, "--file") || strings.HasPrefix(a, "--makefile"):
				call.other = a
				if a == "-C" || a == "-f" {
					i++
				}
			case a == "-I" || a == "-o" || a == "-W":
				i++ // an option with an argument of its own
			case (a == "-j" || a == "-l") && i+1 < len(args) && isNumber(args[i+1]):
				i++ // jobs and load limits take an optional number
			case strings.HasPrefix(a, "-"):
			case strings.Contains(a, "="):
			default:
				call.targets = append(call.targets, a)
			}
		}
		out = append(out, call)
	}
	return out
}

// isNumber reports whether s is a whole number.
func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
