package fanout

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSizingDeadline(t *testing.T) {
	tests := []struct {
		name   string
		sizing Sizing
		want   time.Duration
	}{
		// 60 s + 3 × 90 s + 5 × 60 s + 3 × 360 s + 60 s: the figure the README and template state.
		{"production", DefaultSizing(), 1770 * time.Second},
		{"every term counts", Sizing{
			PublishWithin:   1 * time.Second,
			Tasks:           QueueRetries{MaxReceiveCount: 2, VisibilityTimeout: 10 * time.Second},
			TasksDeadLetter: QueueRetries{MaxReceiveCount: 3, VisibilityTimeout: 100 * time.Second},
			Sink:            QueueRetries{MaxReceiveCount: 4, VisibilityTimeout: 1000 * time.Second},
		}, 1*time.Second + 20*time.Second + 300*time.Second + 4000*time.Second + DeadlineMargin},
	}
	for _, tt := range tests {
		if got := tt.sizing.Deadline(); got != tt.want {
			t.Errorf("%s: Deadline() = %s; want %s", tt.name, got, tt.want)
		}
	}
}

// TestDefaultSizingIsTheProductionOne: DefaultSizing is built from the exported constants, which
// are the numbers TestSizingMatchesTemplate finds in template.yaml.
func TestDefaultSizingIsTheProductionOne(t *testing.T) {
	want := Sizing{
		PublishWithin:   DefaultPublishWithin,
		Tasks:           QueueRetries{MaxReceiveCount: DefaultTasksMaxReceiveCount, VisibilityTimeout: DefaultTasksVisibilityTimeout},
		TasksDeadLetter: QueueRetries{MaxReceiveCount: DefaultTasksDeadLetterMaxReceiveCount, VisibilityTimeout: DefaultTasksDeadLetterVisibilityTimeout},
		Sink:            QueueRetries{MaxReceiveCount: DefaultSinkMaxReceiveCount, VisibilityTimeout: DefaultSinkVisibilityTimeout},
	}
	if got := DefaultSizing(); got != want {
		t.Errorf("DefaultSizing() = %+v; want %+v", got, want)
	}
	if err := DefaultSizing().Validate(); err != nil {
		t.Errorf("DefaultSizing().Validate() = %v; want nil", err)
	}
}

func TestSizingValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Sizing)
	}{
		{"no publish window", func(s *Sizing) { s.PublishWithin = 0 }},
		{"no receives on the tasks queue", func(s *Sizing) { s.Tasks.MaxReceiveCount = 0 }},
		{"negative visibility on the dead-letter queue", func(s *Sizing) { s.TasksDeadLetter.VisibilityTimeout = -time.Second }},
		{"no visibility on the sink queue", func(s *Sizing) { s.Sink.VisibilityTimeout = 0 }},
	}
	for _, tt := range tests {
		s := DefaultSizing()
		tt.change(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil; want an error", tt.name)
		}
	}
}

// TestSizingMatchesTemplate: the production sizing the code falls back to is the one deployed.
// template.yaml writes each queue's receive count and visibility timeout once, in Mappings
// (Fanout); the queues read them from there, and so does every function variable that repeats
// them. The template rule RetrySettingsAreWrittenOnce (tests/template) holds any template to
// that; this test holds this service's template to this service's numbers: the Mappings entries
// equal the Default constants, and each queue and each variable reads the entry it should.
func TestSizingMatchesTemplate(t *testing.T) {
	got := templatePaths(t)
	findInMap := func(entry, key string) string { return fmt.Sprintf("!FindInMap [Fanout, %s, %s]", entry, key) }
	seconds := func(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) }
	want := map[string]string{
		"Mappings/Fanout/TasksQueue/MaxReceiveCount":             strconv.Itoa(DefaultTasksMaxReceiveCount),
		"Mappings/Fanout/TasksQueue/VisibilityTimeout":           seconds(DefaultTasksVisibilityTimeout),
		"Mappings/Fanout/TasksDeadLetterQueue/MaxReceiveCount":   strconv.Itoa(DefaultTasksDeadLetterMaxReceiveCount),
		"Mappings/Fanout/TasksDeadLetterQueue/VisibilityTimeout": seconds(DefaultTasksDeadLetterVisibilityTimeout),
		"Mappings/Fanout/SinkQueue/MaxReceiveCount":              strconv.Itoa(DefaultSinkMaxReceiveCount),
		"Mappings/Fanout/SinkQueue/VisibilityTimeout":            seconds(DefaultSinkVisibilityTimeout),

		"Resources/SubmitBatchFunction/Properties/Environment/Variables/PUBLISH_WITHIN_SECONDS": seconds(DefaultPublishWithin),
		// RecordFailedSubtaskFunction names the tasks queue's receive count in each failure.
		"Resources/RecordFailedSubtaskFunction/Properties/Environment/Variables/MAX_RECEIVE_COUNT": findInMap("TasksQueue", "MaxReceiveCount"),
	}
	for _, q := range []struct{ queue, entry, prefix string }{
		{"FanoutTasksQueue", "TasksQueue", "TASKS_QUEUE"},
		{"FanoutTasksDeadLetterQueue", "TasksDeadLetterQueue", "TASKS_DEAD_LETTER_QUEUE"},
		{"FanoutSinkQueue", "SinkQueue", "SINK_QUEUE"},
	} {
		want["Resources/"+q.queue+"/Properties/VisibilityTimeout"] = findInMap(q.entry, "VisibilityTimeout")
		want["Resources/"+q.queue+"/Properties/RedrivePolicy/maxReceiveCount"] = findInMap(q.entry, "MaxReceiveCount")
		vars := "Resources/SubmitBatchFunction/Properties/Environment/Variables/"
		want[vars+q.prefix+"_VISIBILITY_TIMEOUT_SECONDS"] = findInMap(q.entry, "VisibilityTimeout")
		want[vars+q.prefix+"_MAX_RECEIVE_COUNT"] = findInMap(q.entry, "MaxReceiveCount")
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("template.yaml %s = %q; want %q", k, got[k], v)
		}
	}
	if v, ok := got["Resources/SubmitBatchFunction/Properties/Environment/Variables/BATCH_DEADLINE_SECONDS"]; ok {
		t.Errorf("template.yaml sets BATCH_DEADLINE_SECONDS = %s; the deadline is derived from the queues, and nothing reads it", v)
	}
}

// templatePaths reads the service's template (../../template.yaml) into the scalar values of its mappings by path
// ("Resources/FanoutTasksQueue/Properties/VisibilityTimeout" → "!FindInMap [...]"), as written,
// comments dropped. It reads just enough YAML for the block mappings these tests look at: the
// entries of block lists are kept under "-", and flow collections are values.
func templatePaths(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatalf("read the template: %v", err)
	}
	type level struct {
		indent int
		key    string
	}
	var stack []level
	out := map[string]string{}
	for line := range strings.Lines(string(raw)) {
		text := strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(text) - len(strings.TrimLeft(text, " "))
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		if rest, isItem := strings.CutPrefix(trimmed, "- "); isItem {
			stack = append(stack, level{indent, "-"})
			indent, trimmed = indent+2, rest
		}
		key, value, ok := strings.Cut(trimmed, ":")
		if !ok || strings.ContainsAny(key, " \"'") {
			continue // a scalar list entry, or a line of a folded string
		}
		if i := strings.Index(value, " #"); i >= 0 {
			value = value[:i]
		}
		stack = append(stack, level{indent, key})
		path := make([]string, len(stack))
		for i, l := range stack {
			path[i] = l.key
		}
		if value = strings.TrimSpace(value); value != "" {
			out[strings.Join(path, "/")] = value
		}
	}
	return out
}
