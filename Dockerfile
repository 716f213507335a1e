# glance-db in a container: a small, supported Node base image (Node.js 24
# LTS), the database servers' dump tools for --backup (pg_dump from Alpine's
# postgresql-client, mariadb-dump from mariadb-client), the packed tarball
# (nothing fetched from the npm registry, at build or at run time), a
# non-root user.
#
#   npm ci && npm run package          # makes glance-db-0.1.0.tgz here
#   docker build -t glance-db:0.1.0 .
#   docker run --rm --network glance-db-net -v /etc/glance:/etc/glance:ro \
#     glance-db:0.1.0 sync --glance-config /etc/glance/glance-api.conf
#
# README "Containers and Kubernetes" has an init-container / Job example.
FROM node:24-alpine

# --backup runs pg_dump or mariadb-dump; without them it exits 15.
RUN apk add --no-cache postgresql-client mariadb-client

ARG TARBALL=glance-db-0.1.0.tgz
COPY ${TARBALL} /tmp/glance-db.tgz
RUN npm install -g --offline --no-audit --no-fund /tmp/glance-db.tgz \
 && rm -f /tmp/glance-db.tgz \
 && npm cache clean --force

# The image's node user (uid 1000): glance-db needs no privilege to reach a
# database server; a SQLite file on a volume must be writable by that user.
USER node
# No glance-db.yaml here: the database must be named (--url, GLANCE_DB_URL,
# --glance-config), never made up in the working directory.
WORKDIR /home/node
ENTRYPOINT ["glance-db"]
CMD ["check"]
