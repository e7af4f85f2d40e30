# Tide (worker + console) for docker-compose.yml. Production start: `npm start`.
FROM node:20-bookworm
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY . .
RUN npm ci --no-audit --no-fund && npm run build
EXPOSE 3000
CMD ["npm", "start"]
