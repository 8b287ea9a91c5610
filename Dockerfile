# The one image behind web (Daphne), worker and beat (Celery) in docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# Node and npm only fetch the browser libraries (package-lock.json); Daphne serves them as static files.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .
# Hash and compress static files at build time; the key only satisfies settings during the build.
RUN SECRET_KEY=build-only STATIC_COLLECTED=true python manage.py collectstatic --noinput

# Attached files live in /app/media, a volume web and the workers share (docker-compose.yml): the folder is
# made here, owned by the app's user, so a new volume takes that owner.
RUN useradd --create-home --uid 10001 panels && mkdir -p /app/media && chown panels /app/media
USER panels
EXPOSE 8000
CMD ["python", "-m", "panels.serve", "-b", "0.0.0.0", "-p", "8000"]
