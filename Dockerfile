# syntax=docker/dockerfile:1
# CPU image (default):   docker build -t onnx-openai-server .
# CUDA image:            docker build --build-arg VARIANT=cuda -t onnx-openai-server:cuda .
ARG VARIANT=cpu

# ---- build: compile TypeScript with the dev toolchain --------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# .npmrc (ignore-scripts=true) keeps onnxruntime-node from fetching CUDA binaries.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# ---- CPU runtime: Node LTS slim, non-root --------------------------------
FROM node:20-bookworm-slim AS runtime-cpu
ENV NODE_ENV=production DEVICE=cpu
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY models/tiny-chat ./models/tiny-chat

# ---- CUDA runtime: NVIDIA CUDA 12 runtime + Node 20, ORT's CUDA binaries ---
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 AS runtime-cuda
ENV NODE_ENV=production DEVICE=cuda
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 node
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The one place that fetches onnxruntime-node's CUDA 12 binaries.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm run install:cuda
COPY --from=build /app/dist ./dist
COPY models/tiny-chat ./models/tiny-chat

# ---- final: the variant chosen by the build arg --------------------------
FROM runtime-${VARIANT}
# The default --models-dir (Hub models pulled by --model owner/name), owned by the
# user that writes it, so a named volume mounted there starts writable.
RUN mkdir -p /home/node/.cache/onnx-openai-server/models && chown -R node:node /home/node/.cache
USER node
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/main.js"]
