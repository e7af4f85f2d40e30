// Source passwords at rest: AES-256-GCM with a random IV per value. The key
// comes from TIDE_SECRET_KEY or is generated into the data directory.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("The secret key must be 32 bytes");
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
  }

  decrypt(stored: string): string {
    const [version, iv, tag, ciphertext] = stored.split(":");
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error("A stored secret is not in a format this version of Tide reads");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
      decipher.setAuthTag(Buffer.from(tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new Error("A stored secret cannot be decrypted: TIDE_SECRET_KEY differs from the key it was encrypted with, or the value was altered");
    }
  }
}
