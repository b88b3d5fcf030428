# The Spark job's runtime on EMR Serverless (issue 12). Built and pushed by `make spark-image ENV=<env>`
# (spark/image/image.py), which writes requirements.txt beside this file from airflow/constraints.txt.
# EMR Serverless user guide, "Customizing an EMR Serverless image": FROM the release's base image, install
# as root, run as hadoop:hadoop. The base must be the application's own release label (build arg).
ARG RELEASE_LABEL
FROM public.ecr.aws/emr-serverless/spark/${RELEASE_LABEL}:latest

USER root
# EMR 7.x images are Amazon Linux 2023 with Python 3.9; the job runs on the workers' Python 3.12
# (AL2023's python3.12 package, beside the system Python that EMR's own tooling keeps using).
RUN dnf install -y python3.12 python3.12-pip && dnf clean all
# Relative to the base image's WORKDIR (hadoop's home): the file is only read by the next step.
COPY requirements.txt callcenter-requirements.txt
# Exactly the lock's pins: no resolution (--no-deps), wheels only, and pip check fails the build when
# the derived closure misses a dependency.
RUN /usr/bin/python3.12 -m pip install --no-cache-dir --no-deps --only-binary=:all: -r callcenter-requirements.txt \
    && /usr/bin/python3.12 -m pip check
# Spark's Python workers and driver (the job also sets it per run: spark_job.IMAGE_PYTHON).
ENV PYSPARK_PYTHON=/usr/bin/python3.12

USER hadoop:hadoop
