{{- define "cps.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cps.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cps.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cps.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The consumer pods only: init and one-off Job pods share name and instance. */}}
{{- define "cps.consumerSelectorLabels" -}}
{{ include "cps.selectorLabels" . }}
app.kubernetes.io/component: consumer
{{- end -}}

{{- define "cps.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cps.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: commerce-profile-sync
{{- end -}}

{{- define "cps.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cps.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cps.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret the workloads read: the user's, or the chart's own. */}}
{{- define "cps.secretName" -}}
{{- default (include "cps.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* The init hook runs before the chart's own Secret exists, so it gets a hook copy. */}}
{{- define "cps.hookSecretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- printf "%s-init" (include "cps.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cps.hookServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- printf "%s-init" (include "cps.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "cps.serviceAccountName" . -}}
{{- end -}}
{{- end -}}

{{/* The most replicas that can run at once: the rate limits are shared by that many. */}}
{{- define "cps.maxReplicas" -}}
{{- if .Values.keda.enabled -}}
{{- .Values.keda.maxReplicaCount -}}
{{- else if .Values.autoscaling.enabled -}}
{{- .Values.autoscaling.maxReplicas -}}
{{- else -}}
{{- .Values.replicaCount -}}
{{- end -}}
{{- end -}}

{{- define "cps.gracePeriod" -}}
{{- $revoke := .Values.revokeTimeoutS | float64 -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds -}}
{{- add (ceil $revoke | int) .Values.gracePeriodMarginS -}}
{{- else -}}
{{- $grace := .Values.terminationGracePeriodSeconds | int -}}
{{- if le ($grace | float64) $revoke -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be longer than revokeTimeoutS (%v): a pod killed before its partitions are revoked redelivers their in-flight records" $grace .Values.revokeTimeoutS) -}}
{{- end -}}
{{- $grace -}}
{{- end -}}
{{- end -}}

{{- define "cps.validate" -}}
{{- $partitions := .Values.kafka.partitions | int -}}
{{- $counts := dict "replicaCount" .Values.replicaCount -}}
{{- if .Values.autoscaling.enabled }}{{ $_ := set $counts "autoscaling.maxReplicas" .Values.autoscaling.maxReplicas }}{{ end -}}
{{- if .Values.keda.enabled }}{{ $_ := set $counts "keda.maxReplicaCount" .Values.keda.maxReplicaCount }}{{ end -}}
{{- range $key, $replicas := $counts -}}
{{- if gt ($replicas | int) $partitions -}}
{{- fail (printf "%s (%d) is above kafka.partitions (%d): consumers beyond the partition count sit idle" $key ($replicas | int) $partitions) -}}
{{- end -}}
{{- end -}}
{{- if not (and .Values.aep.clientId .Values.aep.orgId) -}}
{{- fail "aep.clientId and aep.orgId are required (the Adobe Developer Console project's credentials)" -}}
{{- end -}}
{{- if and .Values.keda.enabled .Values.autoscaling.enabled -}}
{{- fail "keda.enabled and autoscaling.enabled: KEDA makes its own HorizontalPodAutoscaler, enable one of them" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled (the Prometheus exporter on the health port)" -}}
{{- end -}}
{{- if not .Values.existingSecret -}}
{{- if not .Values.aep.clientSecret -}}
{{- fail "aep.clientSecret is empty: set it, or existingSecret with the key secretKeys.aepClientSecret" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.password) -}}
{{- fail "kafka.sasl.enabled needs kafka.sasl.password, or existingSecret with the key secretKeys.kafkaSaslPassword" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.kafka.tls.enabled (not .Values.kafka.tls.secretName) -}}
{{- fail "kafka.tls.enabled needs kafka.tls.secretName (a Secret with ca.crt)" -}}
{{- end -}}
{{- $_ := include "cps.gracePeriod" . -}}
{{- end -}}

{{/* Mount paths of the secret material; only paths go into the ConfigMap. */}}
{{- define "cps.secretDir" -}}/etc/profile-sync/secrets{{- end -}}
{{- define "cps.kafkaTlsDir" -}}/etc/profile-sync/kafka-tls{{- end -}}

{{/* librdkafka properties for both clients: the user's, plus SASL/TLS (paths only). */}}
{{- define "cps.kafkaConfig" -}}
{{- $config := deepCopy .Values.kafka.config -}}
{{- $sasl := .Values.kafka.sasl -}}
{{- $tls := .Values.kafka.tls -}}
{{- if $sasl.enabled -}}
{{- $_ := set $config "security.protocol" (ternary "SASL_SSL" "SASL_PLAINTEXT" $tls.enabled) -}}
{{- $_ := set $config "sasl.mechanism" $sasl.mechanism -}}
{{- $_ := set $config "sasl.username" $sasl.username -}}
{{- else if $tls.enabled -}}
{{- $_ := set $config "security.protocol" "SSL" -}}
{{- end -}}
{{- if $tls.enabled -}}
{{- $_ := set $config "ssl.ca.location" (printf "%s/ca.crt" (include "cps.kafkaTlsDir" .)) -}}
{{- if $tls.clientCertificate -}}
{{- $_ := set $config "ssl.certificate.location" (printf "%s/tls.crt" (include "cps.kafkaTlsDir" .)) -}}
{{- $_ := set $config "ssl.key.location" (printf "%s/tls.key" (include "cps.kafkaTlsDir" .)) -}}
{{- end -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/* Every non-secret setting, as PROFILE_SYNC_ and OTEL_ variables: the ConfigMap's data, and the
     init hook's env (it runs before the ConfigMap exists). */}}
{{- define "cps.settings" -}}
{{- $s := dict -}}
{{- $_ := set $s "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS" .Values.kafka.bootstrapServers -}}
{{- $_ := set $s "PROFILE_SYNC_TOPIC" .Values.kafka.topic -}}
{{- $_ := set $s "PROFILE_SYNC_DLQ_TOPIC" .Values.kafka.dlqTopic -}}
{{- $_ := set $s "PROFILE_SYNC_GROUP_ID" .Values.kafka.groupId -}}
{{- if .Values.kafka.replayTopic }}{{ $_ := set $s "PROFILE_SYNC_REPLAY_TOPIC" .Values.kafka.replayTopic }}{{ end -}}
{{- if .Values.kafka.stateTopic }}{{ $_ := set $s "PROFILE_SYNC_STATE_TOPIC" .Values.kafka.stateTopic }}{{ end -}}
{{- if .Values.kafka.schemaRegistryUrl }}{{ $_ := set $s "PROFILE_SYNC_SCHEMA_REGISTRY_URL" .Values.kafka.schemaRegistryUrl }}{{ end -}}
{{- $_ := set $s "PROFILE_SYNC_KAFKA_CONFIG" (include "cps.kafkaConfig" .) -}}
{{- $_ := set $s "PROFILE_SYNC_KAFKA_CONSUMER_CONFIG" (toJson .Values.kafka.consumerConfig) -}}
{{- $_ := set $s "PROFILE_SYNC_KAFKA_PRODUCER_CONFIG" (toJson .Values.kafka.producerConfig) -}}
{{- if .Values.kafka.sasl.enabled -}}
{{- $_ := set $s "PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE" (printf "%s/%s" (include "cps.secretDir" .) .Values.secretKeys.kafkaSaslPassword) -}}
{{- end -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_IMS_URL" .Values.aep.imsUrl -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_PLATFORM_URL" .Values.aep.platformUrl -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_CLIENT_ID" .Values.aep.clientId -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_ORG_ID" .Values.aep.orgId -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_SANDBOX" .Values.aep.sandbox -}}
{{- if eq .Values.aep.clientSecretFrom "file" -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE" (printf "%s/%s" (include "cps.secretDir" .) .Values.secretKeys.aepClientSecret) -}}
{{- end -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_SCHEMA_TITLE" .Values.aep.schemaTitle -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_DATASET_NAME" .Values.aep.datasetName -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_CONNECTION_NAME" .Values.aep.connectionName -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_FLOW_NAME" .Values.aep.flowName -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_MAX_REQUESTS_PER_S" (toString .Values.aep.maxRequestsPerS) -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_MAX_RECORDS_PER_S" (toString .Values.aep.maxRecordsPerS) -}}
{{- $_ := set $s "PROFILE_SYNC_AEP_REQUEST_TIMEOUT_S" (toString .Values.aep.requestTimeoutS) -}}
{{- $_ := set $s "PROFILE_SYNC_EXPECTED_REPLICAS" (include "cps.maxReplicas" .) -}}
{{- $_ := set $s "PROFILE_SYNC_REVOKE_TIMEOUT_S" (toString .Values.revokeTimeoutS) -}}
{{- $_ := set $s "PROFILE_SYNC_HEALTH_PORT" (toString .Values.health.port) -}}
{{- $_ := set $s "PROFILE_SYNC_STATE_DIR" "/var/lib/profile-sync/state" -}}
{{- $_ := set $s "PROFILE_SYNC_LOG_LEVEL" .Values.logLevel -}}
{{- $_ := set $s "PROFILE_SYNC_LOG_FORMAT" "json" -}}
{{- range $key, $value := .Values.settings -}}
{{- $name := printf "PROFILE_SYNC_%s" (upper $key | trimPrefix "PROFILE_SYNC_") -}}
{{- if regexMatch "SECRET|PASSWORD|TOKEN|PRIVATE_KEY" $name -}}
{{- fail (printf "settings.%s looks like a secret: secrets go in the Secret (aep.clientSecret, kafka.sasl.password or existingSecret), never in the ConfigMap" $key) -}}
{{- end -}}
{{- if hasKey $s $name -}}
{{- fail (printf "settings.%s is set by the chart from its own values (%s comes from them, and the probes, grace period or scaling depend on it): set that value instead" $key $name) -}}
{{- end -}}
{{- $_ := set $s $name (toString $value) -}}
{{- end -}}
{{- $_ := set $s "OTEL_SERVICE_NAME" (include "cps.fullname" .) -}}
{{- $_ := set $s "OTEL_METRICS_EXPORTER" (ternary "prometheus" "none" .Values.metrics.enabled) -}}
{{- range $key, $value := .Values.otel -}}
{{- if eq $key "OTEL_METRICS_EXPORTER" -}}
{{- fail "otel.OTEL_METRICS_EXPORTER is set by metrics.enabled (prometheus on the health port, or none)" -}}
{{- end -}}
{{- $_ := set $s $key (toString $value) -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* Secret material the pods read: env (secretKeyRef) ... */}}
{{- define "cps.secretEnv" -}}
{{- if eq .Values.aep.clientSecretFrom "env" }}
- name: PROFILE_SYNC_AEP_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .Values.secretKeys.aepClientSecret }}
{{- end }}
{{- end -}}

{{/* ... and files (a projected Secret with only the keys in use, mode 0440). */}}
{{- define "cps.secretVolumes" -}}
{{- $items := list -}}
{{- if eq .Values.aep.clientSecretFrom "file" -}}{{- $items = append $items .Values.secretKeys.aepClientSecret -}}{{- end -}}
{{- if .Values.kafka.sasl.enabled -}}{{- $items = append $items .Values.secretKeys.kafkaSaslPassword -}}{{- end -}}
{{- if $items }}
- name: secrets
  secret:
    secretName: {{ .secretName }}
    defaultMode: 0440
    items:
      {{- range $items }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
{{- if .Values.kafka.tls.enabled }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "cps.secretMounts" -}}
{{- if or (eq .Values.aep.clientSecretFrom "file") .Values.kafka.sasl.enabled }}
- name: secrets
  mountPath: {{ include "cps.secretDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.enabled }}
- name: kafka-tls
  mountPath: {{ include "cps.kafkaTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The container every workload runs (the Deployment, the init hook, one-off jobs):
     call with (dict "root" $ "name" "..." "args" (list ...) "secretName" "..." "envFromConfigMap" bool
     "resources" dict "probes" bool). */}}
{{- define "cps.container" -}}
{{- $root := .root -}}
{{- $ctx := dict "Values" $root.Values "secretName" .secretName -}}
- name: {{ .name }}
  image: {{ include "cps.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    {{- toYaml .args | nindent 4 }}
  {{- if .envFromConfigMap }}
  envFrom:
    - configMapRef:
        name: {{ include "cps.fullname" $root }}
  {{- end }}
  env:
    {{- if not .envFromConfigMap }}
    {{- range $key, $value := (include "cps.settings" $root | fromYaml) }}
    - name: {{ $key }}
      value: {{ $value | toString | quote }}
    {{- end }}
    {{- end }}
    - name: TMPDIR
      value: /tmp
    {{- with include "cps.secretEnv" $ctx | trim }}
    {{- . | nindent 4 }}
    {{- end }}
  {{- if .probes }}
  ports:
    - name: health
      containerPort: {{ $root.Values.health.port }}
      protocol: TCP
  startupProbe:
    httpGet:
      path: /livez
      port: health
    {{- toYaml $root.Values.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /livez
      port: health
    {{- toYaml $root.Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: health
    {{- toYaml $root.Values.probes.readiness | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: state
      mountPath: /var/lib/profile-sync/state
    {{- with include "cps.secretMounts" $ctx | trim }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* Pod-level fields shared by every workload. */}}
{{- define "cps.podSpec" -}}
{{- $root := .root -}}
automountServiceAccountToken: false
serviceAccountName: {{ .serviceAccountName }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      medium: Memory
      sizeLimit: {{ $root.Values.tmpVolume.sizeLimit }}
  - name: state
    emptyDir:
      sizeLimit: {{ $root.Values.stateVolume.sizeLimit }}
  {{- with include "cps.secretVolumes" (dict "Values" $root.Values "secretName" .secretName) | trim }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "cps.secretData" -}}
{{ .Values.secretKeys.aepClientSecret }}: {{ .Values.aep.clientSecret | b64enc | quote }}
{{- if .Values.kafka.sasl.enabled }}
{{ .Values.secretKeys.kafkaSaslUsername }}: {{ .Values.kafka.sasl.username | b64enc | quote }}
{{ .Values.secretKeys.kafkaSaslPassword }}: {{ .Values.kafka.sasl.password | b64enc | quote }}
{{- end }}
{{- end -}}
