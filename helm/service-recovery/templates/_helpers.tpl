{{/* Chart name, overridable. */}}
{{- define "service-recovery.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart, or the release name when it already holds the chart name. */}}
{{- define "service-recovery.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "service-recovery.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release (a Deployment's selector cannot change). */}}
{{- define "service-recovery.selectorLabels" -}}
app.kubernetes.io/name: {{ include "service-recovery.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The standard labels on every object. */}}
{{- define "service-recovery.labels" -}}
helm.sh/chart: {{ include "service-recovery.chart" . }}
{{ include "service-recovery.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: service-recovery
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The `helm test` Pod's labels: not the selector labels, so the Service never routes to it. */}}
{{- define "service-recovery.testLabels" -}}
helm.sh/chart: {{ include "service-recovery.chart" . }}
app.kubernetes.io/name: {{ include "service-recovery.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: test
app.kubernetes.io/part-of: service-recovery
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "service-recovery.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "service-recovery.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "service-recovery.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The ConfigMap that holds the rules files. */}}
{{- define "service-recovery.rulesConfigMap" -}}
{{- .Values.rules.existingConfigMap | default (printf "%s-rules" (include "service-recovery.fullname" .)) }}
{{- end }}

{{/* The Secret the chart creates for `secretEnv`. */}}
{{- define "service-recovery.secretName" -}}
{{- printf "%s-env" (include "service-recovery.fullname" .) }}
{{- end }}

{{/* The ConfigMap that holds the webhook mapping files. */}}
{{- define "service-recovery.webhookMappingsConfigMap" -}}
{{- .Values.webhookMappings.existingConfigMap | default (printf "%s-webhook-mappings" (include "service-recovery.fullname" .)) }}
{{- end }}

{{/* The ledger's environment (RECOVERY_LEDGER_*): the URL from its Secret, the rest from values. */}}
{{- define "service-recovery.ledgerEnv" -}}
{{- if .Values.ledger.enabled }}
- name: RECOVERY_LEDGER_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "ledger.urlSecret.name: the Secret that holds RECOVERY_LEDGER_URL" .Values.ledger.urlSecret.name }}
      key: {{ .Values.ledger.urlSecret.key | default "RECOVERY_LEDGER_URL" }}
- name: RECOVERY_LEDGER_SPOOL_DIR
  value: /var/lib/recovery/spool
- name: RECOVERY_LEDGER_SPOOL_MAX_BYTES
  value: {{ .Values.ledger.spool.maxBytes | int64 | quote }}
- name: RECOVERY_LEDGER_ON_FULL
  value: {{ .Values.ledger.onFull | quote }}
- name: RECOVERY_LEDGER_IDEMPOTENCY_WINDOW_SECONDS
  value: {{ .Values.ledger.idempotencyWindowSeconds | int64 | quote }}
- name: RECOVERY_LEDGER_RETENTION_DAYS
  value: {{ .Values.ledger.retentionDays | int64 | quote }}
- name: RECOVERY_LEDGER_HISTORY
  value: {{ .Values.ledger.history | quote }}
- name: RECOVERY_LEDGER_RECORD_DESCRIPTIONS
  value: {{ .Values.ledger.recordDescriptions | quote }}
{{- else }}
- name: RECOVERY_LEDGER_URL
  value: "off"
{{- end }}
{{- end }}
