package check

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	psapi "k8s.io/pod-security-admission/api"
	pspolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// buildOverlay renders a Kustomize overlay with the Kustomize API (what
// `kubectl apply -k` runs) and decodes every object strictly with the
// Kubernetes API types: an unknown or misspelt field, a wrong type or a
// duplicate key fails.
func buildOverlay(t *testing.T, overlay string) []runtime.Object {
	t.Helper()
	dir := filepath.Join(repoRoot(), "deploy", "k8s", "overlays", overlay)
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var objs []runtime.Object
	for _, r := range resMap.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := decoder.Decode(y, nil, nil)
		if err != nil {
			t.Errorf("%s %s/%s does not decode strictly: %v", overlay, r.GetKind(), r.GetName(), err)
			continue
		}
		objs = append(objs, obj)
	}
	return objs
}

// podTemplates returns every pod template (Deployment, StatefulSet,
// CronJob, Job) by "Kind/name".
func podTemplates(objs []runtime.Object) map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.Deployment:
			out["Deployment/"+v.Name] = &v.Spec.Template
		case *appsv1.StatefulSet:
			out["StatefulSet/"+v.Name] = &v.Spec.Template
		case *appsv1.DaemonSet:
			out["DaemonSet/"+v.Name] = &v.Spec.Template
		case *corev1.Pod:
			out["Pod/"+v.Name] = &corev1.PodTemplateSpec{ObjectMeta: v.ObjectMeta, Spec: v.Spec}
		}
	}
	return out
}

// restrictedViolations evaluates a pod against the Pod Security Standards
// "restricted" profile (latest), as the admission controller would.
func restrictedViolations(t *testing.T, pod *corev1.PodTemplateSpec) []string {
	t.Helper()
	eval, err := pspolicy.NewEvaluator(pspolicy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range eval.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}, &pod.ObjectMeta, &pod.Spec) {
		if !r.Allowed {
			out = append(out, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return out
}

func TestKubernetesOverlays(t *testing.T) {
	wantReplicas := map[string]int32{"dev": 1, "prod": 3}
	for _, overlay := range []string{"dev", "prod"} {
		t.Run(overlay, func(t *testing.T) {
			objs := buildOverlay(t, overlay)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[fmt.Sprintf("%T", o)]++
				if s, ok := o.(*corev1.Secret); ok && (len(s.Data) > 0 || len(s.StringData) > 0) {
					t.Errorf("Secret %s carries values: Secrets are created by the operator", s.Name)
				}
			}
			for _, k := range []string{"*v1.Namespace", "*v1.Deployment", "*v1.Service", "*v1.Ingress",
				"*v2.HorizontalPodAutoscaler", "*v1.PodDisruptionBudget", "*v1.NetworkPolicy", "*v1.StatefulSet"} {
				if kinds[k] == 0 {
					t.Errorf("%s has no %s", overlay, k)
				}
			}

			pods := podTemplates(objs)
			if len(pods) == 0 {
				t.Fatal("no pod templates")
			}
			for name, pod := range pods {
				for _, v := range restrictedViolations(t, pod) {
					t.Errorf("%s breaks the restricted profile: %s", name, v)
				}
				for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
					if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") {
						t.Errorf("%s container %s: image %q has no pinned tag", name, c.Name, c.Image)
					}
					if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
						t.Errorf("%s container %s: root filesystem is writable", name, c.Name)
					}
					if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
						t.Errorf("%s container %s: no CPU request or memory limit", name, c.Name)
					}
					for _, e := range c.Env {
						if strings.Contains(strings.ToUpper(e.Name), "PASS") && e.Value != "" {
							t.Errorf("%s: %s is written into the manifest; it must come from a Secret", name, e.Name)
						}
					}
				}
			}

			for _, o := range objs {
				switch v := o.(type) {
				case *corev1.Namespace:
					if v.Labels[psapi.EnforceLevelLabel] != string(psapi.LevelRestricted) {
						t.Errorf("namespace %s does not enforce the restricted profile", v.Name)
					}
				case *appsv1.Deployment:
					if v.Namespace != "pfinni" {
						t.Errorf("deployment in namespace %q", v.Namespace)
					}
					if v.Spec.Replicas == nil || *v.Spec.Replicas != wantReplicas[overlay] {
						t.Errorf("replicas %v, want %d", v.Spec.Replicas, wantReplicas[overlay])
					}
					c := v.Spec.Template.Spec.Containers[0]
					for probe, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
						if p == nil || p.HTTPGet == nil || !strings.HasPrefix(p.HTTPGet.Path, "/pfinni/") {
							t.Errorf("no %s probe under /pfinni/", probe)
						}
					}
					if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/pfinni/readyz" {
						t.Errorf("readiness probe %s, want /pfinni/readyz", c.ReadinessProbe.HTTPGet.Path)
					}
					env := map[string]string{}
					for _, e := range c.Env {
						env[e.Name] = e.Value
						if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
							env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name
						}
					}
					if env["PFINNI_DB_PASSWORD"] != "secret:pfinni" || env["PFINNI_BASE_PATH"] != "/pfinni" ||
						!strings.HasPrefix(env["PFINNI_DB_URL"], "wss://") || env["PFINNI_DB_USER"] == "root" {
						t.Errorf("pfinni's settings: %v", env)
					}
				case *networkingv1.Ingress:
					if v.Annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "" || len(v.Spec.TLS) == 0 {
						t.Error("ingress has no WebSocket read timeout or no TLS")
					}
					p := v.Spec.Rules[0].HTTP.Paths[0]
					if p.Path != "/pfinni" || p.Backend.Service.Name != "pfinni" {
						t.Errorf("ingress routes %s to %s, want /pfinni to pfinni", p.Path, p.Backend.Service.Name)
					}
				case *autoscalingv2.HorizontalPodAutoscaler:
					if v.Spec.MinReplicas == nil || *v.Spec.MinReplicas < 1 || v.Spec.MaxReplicas < *v.Spec.MinReplicas {
						t.Error("autoscaler bounds are wrong")
					}
				case *policyv1.PodDisruptionBudget:
					if v.Spec.MinAvailable == nil || v.Spec.MinAvailable.IntValue() < 1 {
						t.Error("disruption budget allows losing every replica")
					}
				case *appsv1.StatefulSet:
					if len(v.Spec.VolumeClaimTemplates) == 0 {
						t.Errorf("statefulset %s keeps no data on a persistent volume", v.Name)
					}
				}
			}
		})
	}
}

// The restricted check can fail: a pod that runs as root with privilege
// escalation is refused.
func TestRestrictedProfileRefusesARootPod(t *testing.T) {
	yes := true
	pod := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "x", Image: "x:1.0.0",
		SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &yes, Privileged: &yes},
	}}}}
	if v := restrictedViolations(t, pod); len(v) < 3 {
		t.Errorf("a privileged root pod passed the restricted profile: %v", v)
	}
}
