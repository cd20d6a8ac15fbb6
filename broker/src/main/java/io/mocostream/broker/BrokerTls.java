package io.mocostream.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * TLS material of a secured embedded broker: a self-signed CA, a broker key and certificate signed
 * by it (valid for 127.0.0.1 and localhost, for server and client use: the broker's own connections
 * to its controller and inter-broker listeners authenticate with it), and a trust store holding the
 * CA certificate for clients. PKCS12 files in one directory; made once and reused, so clients keep
 * trusting the broker across restarts.
 *
 * @param keystore the broker's key store (key + chain), PKCS12
 * @param truststore the CA certificate, PKCS12: what clients trust
 * @param password password of both stores
 * @param brokerPrincipal the principal the broker's certificate authenticates as ({@code
 *     User:CN=...})
 */
public record BrokerTls(Path keystore, Path truststore, String password, String brokerPrincipal) {
  public static final String BROKER_DN = "CN=mocostream-broker";
  public static final String KEYSTORE_FILE = "broker.p12";
  public static final String TRUSTSTORE_FILE = "truststore.p12";
  private static final String CA_FILE = "ca.p12";
  private static final Duration VALIDITY = Duration.ofDays(825);

  /**
   * The stores in {@code dir}, made with {@code password} when missing.
   *
   * @throws UncheckedIOException naming the directory when the stores cannot be written or read
   */
  public static BrokerTls createOrLoad(Path dir, String password) {
    Path keystore = dir.resolve(KEYSTORE_FILE);
    Path truststore = dir.resolve(TRUSTSTORE_FILE);
    BrokerTls tls = new BrokerTls(keystore, truststore, password, "User:" + BROKER_DN);
    if (Files.exists(keystore) && Files.exists(truststore)) {
      tls.check();
      return tls;
    }
    try {
      Files.createDirectories(dir);
      // EC P-256: key generation in milliseconds, where RSA 2048 takes a noticeable part of a
      // second on 2 cores.
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair caKeys = gen.generateKeyPair();
      KeyPair brokerKeys = gen.generateKeyPair();
      X500Name caName = new X500Name("CN=mocostream-ca");
      Instant now = Instant.now();
      X509v3CertificateBuilder caCert =
          new JcaX509v3CertificateBuilder(
                  caName,
                  serial(),
                  Date.from(now.minusSeconds(60)),
                  Date.from(now.plus(VALIDITY)),
                  caName,
                  caKeys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate ca = sign(caCert, caKeys.getPrivate());
      X509v3CertificateBuilder brokerCert =
          new JcaX509v3CertificateBuilder(
                  caName,
                  serial(),
                  Date.from(now.minusSeconds(60)),
                  Date.from(now.plus(VALIDITY)),
                  new X500Name(BROKER_DN),
                  brokerKeys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(
                      new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost")
                      }));
      X509Certificate broker = sign(brokerCert, caKeys.getPrivate());

      char[] pw = password.toCharArray();
      save(dir.resolve(CA_FILE), "ca", caKeys.getPrivate(), new Certificate[] {ca}, pw);
      save(keystore, "broker", brokerKeys.getPrivate(), new Certificate[] {broker, ca}, pw);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("mocostream-ca", ca);
      write(truststore, trust, pw);
      return tls;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the TLS stores in " + dir + ": " + e.getMessage(), e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make the TLS certificates: " + e.getMessage(), e);
    }
  }

  /**
   * Client settings that authenticate as the broker itself (a super user) over a secured broker's
   * internal mutual-TLS listener: for the setup that creates the first users, and for services of
   * the broker's own process.
   */
  public Map<String, Object> internalClientConfig(String internalBootstrap) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", internalBootstrap);
    c.put("security.protocol", "SSL");
    c.put("ssl.keystore.type", "PKCS12");
    c.put("ssl.keystore.location", keystore.toString());
    c.put("ssl.keystore.password", password);
    c.put("ssl.key.password", password);
    c.put("ssl.truststore.type", "PKCS12");
    c.put("ssl.truststore.location", truststore.toString());
    c.put("ssl.truststore.password", password);
    return c;
  }

  /**
   * The stores open with the password (a reused directory with another password fails here, by
   * name).
   */
  private void check() {
    for (Path p : new Path[] {keystore, truststore}) {
      try (InputStream in = Files.newInputStream(p)) {
        KeyStore.getInstance("PKCS12").load(in, password.toCharArray());
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalStateException(
            "TLS store "
                + p
                + " cannot be opened with the password on record ("
                + e.getMessage()
                + "); delete the directory's stores to make new ones",
            e);
      }
    }
  }

  private static BigInteger serial() {
    return new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static void save(Path file, String alias, PrivateKey key, Certificate[] chain, char[] pw)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry(alias, key, pw, chain);
    write(file, ks, pw);
  }

  private static void write(Path file, KeyStore ks, char[] pw)
      throws IOException, GeneralSecurityException {
    try (OutputStream out = Files.newOutputStream(file)) {
      ks.store(out, pw);
    }
    Secrets.ownerOnly(file);
  }
}
