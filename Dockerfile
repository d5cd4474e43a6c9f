# One image build for every Node service; each service is a target:
#   docker build --target producer|aggregator|web|binance-sim .
# The build stage compiles TypeScript, the web bundle and node-rdkafka's native code;
# the runtime stages carry production dependencies only and run as the non-root `node`.

FROM node:20-bookworm-slim AS build
# node-rdkafka compiles librdkafka from its bundled source.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ bash ca-certificates libssl-dev zlib1g-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY common/package.json common/
COPY binance-sim/package.json binance-sim/
COPY producer/package.json producer/
COPY aggregator/package.json aggregator/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# librdkafka links OpenSSL and zlib at run time.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libssl3 zlib1g ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/common common
COPY --from=build /app/clickhouse clickhouse
USER node

FROM runtime AS binance-sim
COPY --from=build /app/binance-sim binance-sim
EXPOSE 9443
HEALTHCHECK --interval=10s --timeout=5s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9443/api/v3/ping').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "binance-sim/dist/src/main.js"]
CMD ["--synthetic", "--host", "0.0.0.0", "--port", "9443"]

FROM runtime AS producer
COPY --from=build /app/producer producer
EXPOSE 9101
HEALTHCHECK --interval=10s --timeout=5s --retries=6 --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9101/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "producer/dist/src/main.js"]

FROM runtime AS aggregator
COPY --from=build /app/aggregator aggregator
EXPOSE 9102
HEALTHCHECK --interval=10s --timeout=5s --retries=6 --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9102/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "aggregator/dist/src/main.js"]

FROM runtime AS web
COPY --from=build /app/web web
EXPOSE 8050
HEALTHCHECK --interval=10s --timeout=5s --retries=6 --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8050/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "web/dist/server/main.js"]
