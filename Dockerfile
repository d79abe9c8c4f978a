# syntax=docker/dockerfile:1
# mllp-dispatcher: a sidecar image. Multi-stage: compile with dev dependencies, ship only
# production dependencies, the compiled JavaScript, and the files read at run time.
# Node 26 is the active LTS line; the code also runs on Node 20.11+ (see package.json engines).
ARG NODE_IMAGE=node:26-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE} AS production-deps
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HTTP_PORT=9464
WORKDIR /app
COPY --from=production-deps /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json ./
COPY config ./config
COPY schemas ./schemas
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs
# The image's unprivileged user (uid 1000). Nothing is written to disk at run time, so the
# root filesystem may be mounted read-only; logs go to stdout.
USER node
EXPOSE 9464
# Liveness of the process; readiness is /readyz (probe it from the orchestrator).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "scripts/healthcheck.mjs"]
# Exec form: node is PID 1 and receives SIGTERM itself; the daemon installs its own SIGTERM
# and SIGINT handlers (graceful stop within shutdown.graceMs, exit 0), so no init shim is
# required. It starts no child processes, so there are no zombies to reap.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
