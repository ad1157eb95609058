# Shijian: the web app (gunicorn) in one image. Build: docker build -t shijian .   Run the demo: docker compose up
# Build stage: compiles the native CSV reader (C) and python-ldap, and installs the pinned dependencies into /opt/venv.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements/lock.txt requirements/lock.txt
RUN /opt/venv/bin/pip install -r requirements/lock.txt
COPY pyproject.toml setup.py README.md ./
COPY src src
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# Run stage: no compiler; pg_dump/pg_restore for `shijian backup`; libgomp for LightGBM; a Chinese TrueType font
# embedded in signed documents; OpenLDAP's client library for LDAP sign-in (libldap2 on Debian 13, libldap-2.5-0
# on 12); libGL and GLib for OpenCV (the licence-photo OCR); a non-root user.
FROM python:3.11-slim
RUN apt-get update \
    && ldap=$(apt-cache policy libldap2 | grep -q 'Candidate: [0-9]' && echo libldap2 || echo libldap-2.5-0) \
    && glib=$(apt-cache policy libglib2.0-0t64 | grep -q 'Candidate: [0-9]' && echo libglib2.0-0t64 || echo libglib2.0-0) \
    && apt-get install -y --no-install-recommends postgresql-client libgomp1 fonts-wqy-zenhei "$ldap" libsasl2-2 \
       libgl1 "$glib" \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 shijian \
    && useradd --system --uid 10001 --gid shijian --home-dir /var/lib/shijian --create-home shijian
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 SHIJIAN_HOME=/var/lib/shijian
USER shijian:shijian
WORKDIR /var/lib/shijian
VOLUME ["/var/lib/shijian"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "shijian migrate && exec shijian serve --host 0.0.0.0 --port 8000 --workers ${SHIJIAN_WORKERS:-2}"]
