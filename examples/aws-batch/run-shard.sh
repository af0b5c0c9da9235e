#!/bin/sh
# One shard of an AWS Batch array job: AWS_BATCH_JOB_ARRAY_INDEX (0-based)
# becomes --shard K/N, and the shard's JSON report goes to S3. A merge job
# that depends on the array job (job-definitions.json) runs
# `ecr-audit report` on all parts.
#   SHARDS        N, the array size
#   REPORT_BUCKET s3://bucket/prefix (no trailing slash)
#   RUN_ID        a name for tonight's run (e.g. the date)
set -eu
k=$(( ${AWS_BATCH_JOB_ARRAY_INDEX:-0} + 1 ))
part="part-$k-of-$SHARDS.json"
set +e
ecr-audit scan --org --all-regions --shard "$k/$SHARDS" --format json -o "/tmp/$part" \
    --fail-on never --quiet
code=$?
set -e
# 3 = incomplete (what could not be read is in the report): still uploaded.
[ "$code" -ne 2 ] || exit 2
aws s3 cp "/tmp/$part" "$REPORT_BUCKET/$RUN_ID/$part"
