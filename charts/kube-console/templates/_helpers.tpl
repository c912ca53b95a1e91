{{/* The release's prefix for every object: the release name, with the chart's name unless it holds it. */}}
{{- define "kube-console.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of one component's objects; call with (list $ "bff"). */}}
{{- define "kube-console.name" -}}
{{- printf "%s-%s" (include "kube-console.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{/* What selects one component's pods; call with (list $ "bff"). */}}
{{- define "kube-console.selectorLabels" -}}
app.kubernetes.io/name: {{ (index . 0).Chart.Name }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Every object's labels; call with (list $ "bff"). */}}
{{- define "kube-console.labels" -}}
{{ include "kube-console.selectorLabels" . }}
app.kubernetes.io/version: {{ (index . 0).Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ (index . 0).Release.Service }}
helm.sh/chart: {{ printf "%s-%s" (index . 0).Chart.Name (index . 0).Chart.Version }}
{{- end -}}

{{/* The BFF serves plain HTTP when told to, or behind this chart's Ingress (TLS ends there). */}}
{{- define "kube-console.bffPlainHttp" -}}
{{- if or .Values.console.plainHttp .Values.ingress.enabled -}}true{{- end -}}
{{- end -}}

{{/* The Secret holding the CA of the apiserver-proxy's certificate. */}}
{{- define "kube-console.proxyCaSecret" -}}
{{- .Values.apiserverProxy.caBundle.name | default .Values.apiserverProxy.tls.secretName -}}
{{- end -}}

{{/* An image reference; call with (list $ .Values.console.image). */}}
{{- define "kube-console.image" -}}
{{- $image := index . 1 -}}
{{- printf "%s:%s" $image.repository ($image.tag | default (index . 0).Chart.AppVersion) -}}
{{- end -}}

{{/*
The pod-level securityContext of both servers: the restricted Pod Security Standard (the images
are static binaries on an empty base, user 65532). fsGroup makes the mounted Secrets readable to
that user with mode 0440.
*/}}
{{- define "kube-console.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kube-console.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Spread over nodes where possible, per revision so that a rollout spreads too; call with (list $ "bff"). */}}
{{- define "kube-console.topologySpread" -}}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "kube-console.selectorLabels" . | nindent 6 }}
  matchLabelKeys: [pod-template-hash]
{{- end -}}

{{/* The graceful-shutdown settings of a container; call with (list $ "BFF"), the variables' prefix. */}}
{{- define "kube-console.shutdownEnv" -}}
{{- $shutdown := (index . 0).Values.shutdown -}}
{{ index . 1 }}_SHUTDOWN_DRAIN_SECONDS: {{ $shutdown.drainSeconds | quote }}
{{ index . 1 }}_SHUTDOWN_GRACE_SECONDS: {{ $shutdown.graceSeconds | quote }}
{{- end -}}

{{/* The pod's part of the graceful shutdown: kubelet waits before SIGTERM, and leaves the process its grace. */}}
{{- define "kube-console.terminationGracePeriod" -}}
{{- add .Values.shutdown.preStopSeconds .Values.shutdown.graceSeconds 5 -}}
{{- end -}}

{{- define "kube-console.preStop" -}}
preStop:
  # The images have no shell and no sleep binary: the kubelet's own sleep (Kubernetes 1.30+).
  sleep:
    seconds: {{ .Values.shutdown.preStopSeconds }}
{{- end -}}
