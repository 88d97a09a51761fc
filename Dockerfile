# syntax=docker/dockerfile:1
# The Writ image: `writ worker` by default; the compose file runs `migrate`, `keygen` and `serve`
# from the same image.
#
# Debian (glibc), not Alpine: @temporalio/core-bridge ships prebuilt native binaries for glibc
# only. Node 22 is an LTS line; the tests in this repository run on Node 20, whose support ended
# in April 2026. The tag follows 22.x patch releases: pin a digest in your own registry for
# reproducible builds.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# .dockerignore admits only src/ of the sources, so this compiles the library and CLI alone.
RUN npx tsc -p tsconfig.json
# Bundling the workflow code takes seconds at every worker start; do it once here instead
# (the worker reads WRIT_WORKFLOW_BUNDLE), twice: with Writ's trace-header interceptor only, and
# with the SDK's span interceptors too, which a worker takes (WRIT_WORKFLOW_BUNDLE_TRACED) when it
# exports spans; without tracing they would only cost every workflow their time.
RUN node --input-type=module -e " \
  import { writeFileSync } from 'node:fs'; \
  import { bundleWorkflowCode } from '@temporalio/worker'; \
  import { writBundleOptions } from './dist/src/plugin.js'; \
  writeFileSync('workflow-bundle.js', (await bundleWorkflowCode(writBundleOptions())).code); \
  writeFileSync('workflow-bundle-traced.js', (await bundleWorkflowCode(writBundleOptions({ tracing: true }))).code);"

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/workflow-bundle.js /app/workflow-bundle-traced.js ./
# `writ migrate` finds these beside dist/ (src/ledger/migrate.ts).
COPY migrations ./migrations
# Named volumes copy the ownership of the directory they are first mounted on, so the unprivileged
# user can write its signing key and checkpoint anchors there.
RUN mkdir -p /var/lib/writ/keys /var/lib/writ/anchors && chown -R node:node /var/lib/writ
ENV WRIT_WORKFLOW_BUNDLE=/app/workflow-bundle.js
ENV WRIT_WORKFLOW_BUNDLE_TRACED=/app/workflow-bundle-traced.js
# The code stays root-owned and read-only to the user that runs it.
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
