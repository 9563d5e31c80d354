# One image for the API, the worker and the email relay: the command picks
# (see README "Operations" and docker-compose.yml).
#
#   docker build -t loginsign .
#   docker run loginsign                                          # the API on :3000
#   docker run loginsign node dist/apps/worker/src/main.js        # a worker (metrics on :9464)
#   docker run loginsign node dist/apps/relay/src/main.js         # the relay (SMTP :2525, metrics :9465)
#   docker run loginsign node scripts/migrate.js --built          # create/migrate the database, then exit

# Build: all dependencies (SWC compiles), then only the production ones are kept.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: argon2 and msgpackr ship prebuilt binaries, so no compiler is needed.
RUN npm ci --include=dev --ignore-scripts --no-audit --no-fund
COPY .swcrc tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
RUN node_modules/.bin/swc apps libs -d dist --config-file .swcrc --ignore "**/*.spec.ts" -q \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: production dependencies and the compiled code, as the unprivileged "node" user.
FROM node:20-bookworm-slim AS runtime
# MALLOC_MMAP_THRESHOLD_: as scripts/lib.js PROCESS_ENV (large freed blocks go back to the system).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The common-password list the password policy loads (libs/common/data, next to the compiled lib).
COPY --from=build /app/libs/common/data ./dist/libs/common/data
COPY scripts/lib.js scripts/migrate.js scripts/healthcheck.js ./scripts/
USER node
EXPOSE 3000 2525 9464 9465
# The API's readiness; the worker and the relay override it with `node scripts/healthcheck.js worker|relay`.
HEALTHCHECK --interval=10s --timeout=5s --retries=6 CMD ["node", "scripts/healthcheck.js", "api"]
CMD ["node", "--enable-source-maps", "dist/apps/api/src/main.js"]
