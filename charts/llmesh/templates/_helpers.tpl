{{- define "llmesh.name" -}}llmesh-operator{{- end -}}
{{- define "llmesh.labels" -}}
app.kubernetes.io/name: llmesh
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "llmesh.selector" -}}
app.kubernetes.io/name: llmesh
app.kubernetes.io/component: operator
{{- end -}}
{{- define "llmesh.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "llmesh.sidecarImage" -}}{{ .Values.sidecar.image | default (include "llmesh.image" .) }}{{- end -}}
{{- define "llmesh.operatorURL" -}}https://llmesh-operator.{{ .Release.Namespace }}.svc:8443{{- end -}}
