# The Spark job's runtime on Dataproc Serverless (issue 12). Built and pushed by `make spark-image ENV=<env>`
# (spark/image/image.py), which writes requirements.txt beside this file from airflow/constraints.txt.
# Dataproc Serverless "Use custom containers": Debian 12 recommended; no Spark and no JDK here (the service
# mounts both at run time); procps and tini for Spark's scripts; a `spark` user and group, UID/GID 1099,
# with a home directory; PYSPARK_PYTHON names the interpreter. The workers' Python minor (3.12) on Debian 12.
FROM python:3.12-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends procps tini libjemalloc2 \
    && rm -rf /var/lib/apt/lists/*
# The guide's allocator for the driver and executors' JVMs (fewer fragmentation OOMs on long batches).
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

# Relative to the base image's working directory: the file is only read by the next step, then removed.
COPY requirements.txt callcenter-requirements.txt
# Exactly the lock's pins: no resolution (--no-deps), wheels only, and pip check fails the build when
# the derived closure misses a dependency.
RUN /usr/local/bin/python3.12 -m pip install --no-cache-dir --no-deps --only-binary=:all: -r callcenter-requirements.txt \
    && /usr/local/bin/python3.12 -m pip check \
    && rm callcenter-requirements.txt
# Spark's Python workers and driver (the batch also names it per run: callcenter/dataproc.IMAGE_PYTHON).
ENV PYSPARK_PYTHON=/usr/local/bin/python3.12

# -m: the guide requires a home directory (useradd's default, under HOME's base directory).
RUN groupadd -g 1099 spark && useradd -u 1099 -g 1099 -m spark
USER spark
