package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The parts of Kubernetes and Compose objects the deployment test reads.
type k8sObject struct {
	Kind     string                `yaml:"kind"`
	Metadata struct{ Name string } `yaml:"metadata"`
	Data     map[string]string     `yaml:"data"`
	Spec     struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// Service
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
	Containers                    []container `yaml:"containers"`
	Volumes                       []struct {
		Name      string    `yaml:"name"`
		EmptyDir  *struct{} `yaml:"emptyDir"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Args    []string `yaml:"args"`
	EnvFrom []struct {
		ConfigMapRef struct{ Name string } `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func (c *container) port(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func (c *container) mount(volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// decodeAll reads every document of a multi-document YAML file.
func decodeAll(t *testing.T, path string) []k8sObject {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []k8sObject
	for {
		var o k8sObject
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, o)
	}
}

// portOf is the port of a host:port listen address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return n
}

// phpFPMListen is the socket path of the pool file's listen directive.
func phpFPMListen(t *testing.T, conf string) string {
	t.Helper()
	for _, l := range strings.Split(conf, "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == "listen" {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("php-fpm pool has no listen directive")
	return ""
}

// TestDeployManifestsAgree parses deploy/kubernetes and
// deploy/docker-compose.yml and checks what must agree does: gale's args
// are valid gale flags; the FastCGI socket gale dials is the one php-fpm
// listens on, in the directory both mount from the shared volume; the
// document root is mounted at the same path in both; the probes hit the
// admin port on /readyz and /healthz; the grace period covers preStop plus
// -shutdown-timeout, and php-fpm outlives gale's drain; the Service
// targets the HTTP port; Compose runs gale the same way.
func TestDeployManifestsAgree(t *testing.T) {
	const dir = "../../deploy/"
	poolFile, err := os.ReadFile(dir + "php-fpm/zz-gale.conf")
	if err != nil {
		t.Fatal(err)
	}
	indexPHP, err := os.ReadFile(dir + "www/index.php")
	if err != nil {
		t.Fatal(err)
	}
	socket := phpFPMListen(t, string(poolFile))
	socketDir := socket[:strings.LastIndexByte(socket, '/')]

	cms := map[string]map[string]string{}
	for _, o := range decodeAll(t, dir+"kubernetes/configmap.yaml") {
		if o.Kind != "ConfigMap" {
			t.Fatalf("configmap.yaml holds a %s", o.Kind)
		}
		cms[o.Metadata.Name] = o.Data
	}
	if cms["php-fpm"]["zz-gale.conf"] != string(poolFile) || cms["php-fpm"]["index.php"] != string(indexPHP) {
		t.Error("the php-fpm ConfigMap differs from deploy/php-fpm/zz-gale.conf or deploy/www/index.php")
	}

	deps := decodeAll(t, dir+"kubernetes/deployment.yaml")
	if len(deps) != 1 || deps[0].Kind != "Deployment" {
		t.Fatalf("deployment.yaml: want one Deployment")
	}
	dep := deps[0]
	pod := dep.Spec.Template.Spec
	var gale, php *container
	for i := range pod.Containers {
		switch pod.Containers[i].Name {
		case "gale":
			gale = &pod.Containers[i]
		case "php-fpm":
			php = &pod.Containers[i]
		}
	}
	if gale == nil || php == nil {
		t.Fatal("the Deployment needs a gale and a php-fpm container")
	}
	o, _, err := parseFlags(gale.Args)
	if err != nil {
		t.Fatalf("gale args %q: %v", gale.Args, err)
	}
	if o.fastcgi != "unix:"+socket {
		t.Errorf("gale -fastcgi %q, php-fpm listens on %q", o.fastcgi, socket)
	}
	sockVol := ""
	for _, m := range gale.VolumeMounts {
		if m.MountPath == socketDir {
			sockVol = m.Name
		}
	}
	if sockVol == "" || php.mount(sockVol) != socketDir {
		t.Errorf("the socket directory %s is not one volume mounted in both containers", socketDir)
	}
	for _, v := range pod.Volumes {
		if v.Name == sockVol && v.EmptyDir == nil {
			t.Errorf("socket volume %s is not an emptyDir", sockVol)
		}
	}
	if gale.mount("www") != o.root || php.mount("www") != o.root {
		t.Errorf("document root: gale -root %s, mounted at %s (gale) and %s (php-fpm): SCRIPT_FILENAME must name the same file in both", o.root, gale.mount("www"), php.mount("www"))
	}
	if got := php.mount("php-fpm"); got != "/usr/local/etc/php-fpm.d/zz-gale.conf" {
		t.Errorf("php-fpm pool file mounted at %q", got)
	}
	if gale.port("http") != portOf(t, o.listen) {
		t.Errorf("containerPort http %d, gale -listen %s", gale.port("http"), o.listen)
	}
	// The admin address comes from the gale-env ConfigMap (GALE_ADMIN).
	if len(gale.EnvFrom) != 1 || gale.EnvFrom[0].ConfigMapRef.Name != "gale-env" {
		t.Fatalf("gale envFrom %+v: want the gale-env ConfigMap", gale.EnvFrom)
	}
	adminAddr := cms["gale-env"]["GALE_ADMIN"]
	if o.admin != "" {
		adminAddr = o.admin
	}
	if host, _, _ := net.SplitHostPort(adminAddr); host != "0.0.0.0" && host != "" {
		t.Errorf("admin address %q: the kubelet probes the pod IP", adminAddr)
	}
	if gale.port("admin") != portOf(t, adminAddr) {
		t.Errorf("containerPort admin %d, GALE_ADMIN %s", gale.port("admin"), adminAddr)
	}
	for _, p := range []struct {
		name string
		pr   *probe
		path string
	}{{"readiness", gale.ReadinessProbe, "/readyz"}, {"liveness", gale.LivenessProbe, "/healthz"}} {
		if p.pr == nil || p.pr.HTTPGet.Path != p.path || p.pr.HTTPGet.Port != "admin" {
			t.Errorf("%s probe %+v: want GET %s on the admin port", p.name, p.pr, p.path)
		}
	}
	if gale.Lifecycle.PreStop.Sleep == nil || php.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("both containers need a preStop sleep")
	}
	galeStop := time.Duration(gale.Lifecycle.PreStop.Sleep.Seconds)*time.Second + o.shutdownTimeout
	phpStop := time.Duration(php.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second
	if grace < galeStop {
		t.Errorf("terminationGracePeriodSeconds %v < preStop + -shutdown-timeout %v", grace, galeStop)
	}
	if phpStop < galeStop || grace <= phpStop {
		t.Errorf("php-fpm's preStop (%v) must outlast gale's drain (%v) and end within the grace period (%v)", phpStop, galeStop, grace)
	}
	labels := dep.Spec.Template.Metadata.Labels
	for k, v := range dep.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod labels", k, v)
		}
	}

	svcs := decodeAll(t, dir+"kubernetes/service.yaml")
	if len(svcs) != 1 || svcs[0].Kind != "Service" || len(svcs[0].Spec.Ports) == 0 {
		t.Fatal("service.yaml: want one Service with a port")
	}
	if tp := svcs[0].Spec.Ports[0].TargetPort; tp != "http" && tp != strconv.Itoa(gale.port("http")) {
		t.Errorf("Service targetPort %q is not gale's HTTP port", tp)
	}

	// Compose: the same gale command, socket, volumes and timing.
	data, err := os.ReadFile(dir + "docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image           string            `yaml:"image"`
			Build           string            `yaml:"build"`
			Command         []string          `yaml:"command"`
			Environment     map[string]string `yaml:"environment"`
			Ports           []string          `yaml:"ports"`
			Volumes         []string          `yaml:"volumes"`
			DependsOn       []string          `yaml:"depends_on"`
			StopGracePeriod string            `yaml:"stop_grace_period"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	cg, cp := compose.Services["gale"], compose.Services["php-fpm"]
	if strings.Join(cg.Command, " ") != strings.Join(gale.Args, " ") {
		t.Errorf("compose gale command %q differs from the Deployment's args %q", cg.Command, gale.Args)
	}
	if cg.Environment["GALE_ADMIN"] != cms["gale-env"]["GALE_ADMIN"] {
		t.Errorf("compose GALE_ADMIN %q, ConfigMap %q", cg.Environment["GALE_ADMIN"], cms["gale-env"]["GALE_ADMIN"])
	}
	hasVolume := func(vols []string, want string) bool {
		for _, v := range vols {
			if strings.TrimSuffix(v, ":ro") == want {
				return true
			}
		}
		return false
	}
	sockMount := sockVol + ":" + socketDir
	if _, ok := compose.Volumes[sockVol]; !ok || !hasVolume(cg.Volumes, sockMount) || !hasVolume(cp.Volumes, sockMount) {
		t.Errorf("compose: volume %s not shared at %s", sockVol, socketDir)
	}
	if !hasVolume(cg.Volumes, "./www:"+o.root) || !hasVolume(cp.Volumes, "./www:"+o.root) {
		t.Errorf("compose: ./www not mounted at %s in both", o.root)
	}
	if !hasVolume(cp.Volumes, "./php-fpm/zz-gale.conf:/usr/local/etc/php-fpm.d/zz-gale.conf") {
		t.Errorf("compose: php-fpm pool file not mounted")
	}
	if len(cg.DependsOn) != 1 || cg.DependsOn[0] != "php-fpm" || cg.Build != ".." || cp.Image != php.Image {
		t.Errorf("compose: gale must build from the repository and depend on php-fpm (%s)", php.Image)
	}
	cgStop, err1 := time.ParseDuration(cg.StopGracePeriod)
	cpStop, err2 := time.ParseDuration(cp.StopGracePeriod)
	if err1 != nil || err2 != nil || cgStop < o.shutdownTimeout || cpStop < cgStop {
		t.Errorf("compose stop_grace_period gale %q, php-fpm %q: want gale ≥ -shutdown-timeout %v and php-fpm ≥ gale", cg.StopGracePeriod, cp.StopGracePeriod, o.shutdownTimeout)
	}
	portsOK := false
	for _, p := range cg.Ports {
		if strings.HasSuffix(p, ":"+strconv.Itoa(portOf(t, o.listen))) {
			portsOK = true
		}
	}
	if !portsOK {
		t.Errorf("compose publishes %q, gale listens on %s", cg.Ports, o.listen)
	}
}
