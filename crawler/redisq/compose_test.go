package redisq

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docker-compose.yml is accepted by `docker-compose config` and says what the distributed mode
// needs: Redis with AOF and a healthcheck, scalable workers, a scheduler and a report server.
func TestComposeFile(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose not on PATH (apt-get install docker-compose); skipping the compose check")
	}
	file, _ := filepath.Abs("../../docker-compose.yml")
	cmd := exec.Command(bin, "-f", file, "config")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, errb.String())
	}
	var cfg struct {
		Services map[string]struct {
			Image         string            `yaml:"image"`
			Command       []string          `yaml:"command"`
			ContainerName string            `yaml:"container_name"`
			Ports         []any             `yaml:"ports"`
			Environment   map[string]string `yaml:"environment"`
			Healthcheck   *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(out.Bytes(), &cfg); err != nil {
		t.Fatalf("parse docker-compose config output: %v", err)
	}
	r, ok := cfg.Services["redis"]
	if !ok {
		t.Fatal("no redis service")
	}
	cmdline := strings.Join(r.Command, " ")
	if !strings.Contains(cmdline, "--appendonly yes") {
		t.Fatalf("redis command %q: AOF persistence is not on", cmdline)
	}
	if r.Healthcheck == nil || !strings.Contains(strings.Join(r.Healthcheck.Test, " "), "ping") {
		t.Fatal("redis has no ping healthcheck")
	}
	if len(r.Volumes) == 0 || !strings.HasSuffix(strings.Split(r.Volumes[0], ":")[1], "data") {
		t.Fatalf("redis data is not on a volume: %v", r.Volumes)
	}
	w, ok := cfg.Services["worker"]
	if !ok || len(w.Command) == 0 || w.Command[0] != "worker" {
		t.Fatalf("worker service runs %v, want `afterlife worker`", w.Command)
	}
	if w.ContainerName != "" || len(w.Ports) > 0 {
		t.Fatal("worker has a container name or a published port: --scale worker=N would clash")
	}
	if !strings.HasPrefix(w.Environment["AFTERLIFE_REDIS_URL"], "redis://redis:") {
		t.Fatalf("worker AFTERLIFE_REDIS_URL = %q", w.Environment["AFTERLIFE_REDIS_URL"])
	}
	if w.DependsOn["redis"].Condition != "service_healthy" {
		t.Fatal("workers do not wait for a healthy redis")
	}
	if s, ok := cfg.Services["scheduler"]; !ok || s.Command[0] != "schedule" {
		t.Fatal("no scheduler service running `afterlife schedule`")
	}
	if s, ok := cfg.Services["report"]; !ok || s.Command[0] != "serve" || len(s.Ports) == 0 {
		t.Fatal("no report server running `afterlife serve` on a published port")
	}
}
